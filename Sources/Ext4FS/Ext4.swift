import DiskFormats
import CExt2fs
import Ext2fsImageIO

import Glibc

/// An ext2/3/4 filesystem inside an image file, opened through libext2fs at a byte
/// offset (the partition's start) so that no loop device, mount or root is needed.
///
/// ```
/// image file
/// ┌──────────┬──────────────┬──────────────────────────────────────────┐
/// │ MBR/GPT  │ bootfs (FAT) │ rootfs (ext4) ◄── offset                 │
/// └──────────┴──────────────┴──────────────────────────────────────────┘
///                              │ +1024: superblock (preflight reads it)
/// ```
///
/// Every write carries explicit mode, owner and time; libext2fs's own clock
/// (`fs->now`) is pinned to `now`, so equal inputs give equal bytes. The handle owns
/// the `ext2_filsys`: `close()` writes the superblock, group descriptors and bitmaps
/// (with checksums); `deinit` closes a handle that was not closed.
public final class Ext4Volume {
    /// Inode number of the root directory.
    static let rootInode: ext2_ino_t = 2

    var fs: ext2_filsys?
    /// The image file the volume lives in.
    public let imagePath: String
    /// Byte offset of the filesystem inside the image file.
    public let offset: UInt64
    /// Whether writes are allowed.
    public let writable: Bool
    /// The time libext2fs uses for anything it stamps itself (superblock write time,
    /// deleted inodes' dtime).
    public let now: Int64
    /// What writes do when their path meets a symlink of the image (default: follow it
    /// inside the image; build-image refuses).
    public var writeSymlinks: Ext4WriteSymlinks = .followInside

    /// Opens the filesystem in `range` of `imagePath` (its partition): libext2fs's I/O manager
    /// refuses any read or write outside it, and a superblock that claims more bytes than the
    /// range holds is refused before libext2fs opens anything.
    ///
    /// The superblock is read and checked first: an incompatible feature outside
    /// ``Ext4Superblock/supportedIncompat`` (or, when writable, a read-only-compatible
    /// one outside ``Ext4Superblock/supportedROCompat``) is refused before libext2fs
    /// opens anything. `now` defaults to the superblock's last write time, so writing
    /// the same changes into the same image always gives the same bytes.
    public init(imagePath: String, range: ByteRange, writable: Bool, now: Int64? = nil) throws {
        let offset = range.offset
        self.imagePath = imagePath
        self.offset = offset
        self.writable = writable
        let raw = try Self.readSuperblock(imagePath: imagePath, offset: offset)
        guard let superblock = Ext4Superblock(bytes: raw) else {
            throw Ext4Error.notExt4(path: imagePath, offset: offset)
        }
        guard let size = superblock.byteSize, size <= range.length else {
            throw Ext4Error.largerThanPartition(path: imagePath, offset: offset, fileSystemBytes: superblock.byteSize,
                                                partitionBytes: range.length)
        }
        try superblock.preflight(writable: writable)

        var handle: ext2_filsys?
        let flags = EXT2_FLAG_64BITS | (writable ? EXT2_FLAG_RW : 0)
        let code = ext2fs_open2(imagePath, "offset=\(offset)&length=\(range.length)", Int32(flags), 0, 0,
                                cext2fs_image_io_manager(), &handle)
        try Ext4Error.check(code, "ext2fs_open2", imagePath)
        guard let handle else { throw Ext4Error.notExt4(path: imagePath, offset: offset) }
        let wtime = Int64(handle.pointee.super.pointee.s_wtime)
        // libext2fs reads a zero `now` as "use the clock", so time 0 (SOURCE_DATE_EPOCH unset)
        // becomes 1 to stay reproducible.
        self.now = max(now ?? wtime, 1)
        handle.pointee.now = time_t(self.now)
        fs = handle
        let bitmaps = ext2fs_read_bitmaps(handle)
        if bitmaps != 0 {
            ext2fs_free(handle)
            fs = nil
            try Ext4Error.check(bitmaps, "ext2fs_read_bitmaps", imagePath)
        }
    }

    deinit {
        if fs != nil { _ = ext2fs_close_free(&fs) }
    }

    /// Writes everything libext2fs holds dirty (superblock and its backups, group
    /// descriptors, bitmaps, all with checksums) and releases the handle.
    public func close() throws {
        guard let handle = fs else { return }
        fs = nil
        let code = ext2fs_close2(handle, 0)
        if code != 0 {
            ext2fs_free(handle)
            try Ext4Error.check(code, "ext2fs_close2", imagePath)
        }
    }

    /// Writes dirty metadata without closing.
    public func flush() throws {
        try Ext4Error.check(ext2fs_flush(try handle()), "ext2fs_flush", imagePath)
    }

    /// Filesystem block size in bytes.
    public var blockSize: Int {
        get throws { Int(try handle().pointee.blocksize) }
    }

    func handle() throws -> ext2_filsys {
        guard let fs else { throw Ext4Error.closed }
        return fs
    }

    func writableHandle() throws -> ext2_filsys {
        let fs = try handle()
        guard writable else { throw Ext4Error.readOnly }
        return fs
    }

    /// Opens the file system that starts at `offset` and runs to the end of the file (a bare
    /// file system image, or the last partition of a test's image).
    public convenience init(imagePath: String, offset: UInt64, writable: Bool, now: Int64? = nil) throws {
        var info = stat()
        guard stat(imagePath, &info) == 0 else {
            try Ext4Error.check(errcode_t(errno), "stat", imagePath)
            throw Ext4Error.notExt4(path: imagePath, offset: offset)
        }
        let size = UInt64(info.st_size)
        try self.init(imagePath: imagePath, range: ByteRange(offset: offset, length: size > offset ? size - offset : 0),
                      writable: writable, now: now)
    }

    static func readSuperblock(imagePath: String, offset: UInt64) throws -> [UInt8] {
        let fd = open(imagePath, O_RDONLY)
        guard fd >= 0 else {
            try Ext4Error.check(errcode_t(errno), "open", imagePath)
            return []
        }
        defer { _ = Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: Ext4Superblock.size)
        let got = bytes.withUnsafeMutableBytes {
            pread(fd, $0.baseAddress, Ext4Superblock.size, off_t(offset + Ext4Superblock.offset))
        }
        return got == Ext4Superblock.size ? bytes : []
    }
}
