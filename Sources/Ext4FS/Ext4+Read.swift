import DiskFormats
import CExt2fs

/// What an entry in the image is, as `lstat` would tell.
public struct Ext4Entry: Equatable, Sendable {
    /// The kind of inode.
    public enum Kind: Equatable, Sendable {
        case directory, regular, symlink, other
    }

    public var inode: UInt32
    public var kind: Kind
    /// Permission bits (`0o7777` mask).
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32
    /// Modification time in seconds since the epoch.
    public var mtime: Int64
    public var size: UInt64
    /// The target, for symlinks.
    public var symlinkTarget: String?
}

extension Ext4Volume {
    /// Describes the entry at `path` without following a final symlink; nil when absent.
    public func lookup(_ path: String) throws -> Ext4Entry? {
        guard let ino = try resolve(path, followLast: false) else { return nil }
        let inode = try readInode(ino)
        let kind: Ext4Entry.Kind
        switch inode.i_mode & Self.typeMask {
        case Self.typeDirectory: kind = .directory
        case Self.typeRegular: kind = .regular
        case Self.typeSymlink: kind = .symlink
        default: kind = .other
        }
        let extra = inode.i_extra_isize >= 12 ? inode.i_mtime_extra & 3 : 0
        return Ext4Entry(
            inode: ino,
            kind: kind,
            mode: inode.i_mode & 0o7777,
            uid: UInt32(inode.i_uid) | UInt32(inode.osd2.linux2.l_i_uid_high) << 16,
            gid: UInt32(inode.i_gid) | UInt32(inode.osd2.linux2.l_i_gid_high) << 16,
            mtime: Int64(Int32(bitPattern: inode.i_mtime)) + Int64(extra) << 32,
            size: UInt64(inode.i_size) | UInt64(inode.i_size_high) << 32,
            symlinkTarget: kind == .symlink ? try readLink(ino, inode, path: path) : nil
        )
    }

    /// The content of the regular file at `path` (symlinks followed inside the
    /// image); nil when absent.
    public func readFile(_ path: String) throws -> [UInt8]? {
        guard let ino = try resolve(path, followLast: true) else { return nil }
        let inode = try readInode(ino)
        switch inode.i_mode & Self.typeMask {
        case Self.typeRegular: break
        case Self.typeDirectory: throw Ext4Error.isADirectory(path: path)
        default: throw Ext4Error.invalidPath(path: path)
        }
        if inode.i_flags & Self.inlineDataFlag != 0 { throw Ext4Error.inlineData(path: path) }
        return try readContent(ino, path: path)
    }

    /// Reads an inode's whole data through libext2fs's file API.
    func readContent(_ ino: ext2_ino_t, path: String) throws -> [UInt8] {
        let fs = try handle()
        var file: ext2_file_t?
        try Ext4Error.check(ext2fs_file_open(fs, ino, 0, &file), "ext2fs_file_open", path)
        defer { _ = ext2fs_file_close(file) }
        var size: ext2_off64_t = 0
        try Ext4Error.check(ext2fs_file_get_lsize(file, &size), "ext2fs_file_get_lsize", path)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var done = 0
        let total = bytes.count
        while done < total {
            var got: UInt32 = 0
            let code = bytes.withUnsafeMutableBytes {
                ext2fs_file_read(file, $0.baseAddress! + done, UInt32(min(total - done, 1 << 20)), &got)
            }
            try Ext4Error.check(code, "ext2fs_file_read", path)
            guard got > 0 else { break }
            done += Int(got)
        }
        return Array(bytes.prefix(done))
    }
}
