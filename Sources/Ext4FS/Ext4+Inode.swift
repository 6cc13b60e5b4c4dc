import DiskFormats
import CExt2fs

/// Inode helpers: typed access to mode bits, owner and the four timestamps.
///
/// ```
/// ext2_inode_large (offsets in bytes)
///   0x00 i_mode   0x02 i_uid(lo)   0x08 i_atime  0x0C i_ctime  0x10 i_mtime
///   0x14 i_dtime  0x18 i_gid(lo)   0x1A i_links_count
///   0x78 l_i_uid_high  0x7A l_i_gid_high
///   0x80 i_extra_isize
///   0x84 i_ctime_extra 0x88 i_mtime_extra 0x8C i_atime_extra  (bits 0-1: epoch, 2-31: ns)
///   0x90 i_crtime      0x94 i_crtime_extra
/// ```
extension Ext4Volume {
    static let typeMask: UInt16 = 0o170000
    static let typeDirectory: UInt16 = 0o040000
    static let typeRegular: UInt16 = 0o100000
    static let typeSymlink: UInt16 = 0o120000
    static let inlineDataFlag: UInt32 = 0x1000_0000
    static let extentsFlag: UInt32 = 0x0008_0000

    /// An inode's timestamp split into the 32-bit seconds field and the `_extra`
    /// field, whose low two bits extend the seconds beyond 2038 (nanoseconds are 0).
    static func encodeTime(_ seconds: Int64) -> (low: UInt32, extra: UInt32) {
        let low = UInt32(truncatingIfNeeded: seconds)
        let epoch = (seconds - Int64(Int32(bitPattern: low))) >> 32
        return (low, UInt32(truncatingIfNeeded: epoch) & 3)
    }

    func readInode(_ ino: ext2_ino_t) throws -> ext2_inode_large {
        let fs = try handle()
        var inode = ext2_inode_large()
        let code = withUnsafeMutablePointer(to: &inode) {
            $0.withMemoryRebound(to: ext2_inode.self, capacity: 1) {
                ext2fs_read_inode_full(fs, ino, $0, Int32(MemoryLayout<ext2_inode_large>.size))
            }
        }
        try Ext4Error.check(code, "ext2fs_read_inode_full", "inode \(ino)")
        return inode
    }

    func writeInode(_ ino: ext2_ino_t, _ inode: ext2_inode_large) throws {
        var copy = inode
        let fs = try writableHandle()
        let code = withUnsafeMutablePointer(to: &copy) {
            $0.withMemoryRebound(to: ext2_inode.self, capacity: 1) {
                ext2fs_write_inode_full(fs, ino, $0, Int32(MemoryLayout<ext2_inode_large>.size))
            }
        }
        try Ext4Error.check(code, "ext2fs_write_inode_full", "inode \(ino)")
    }

    /// Sets the permission bits (keeping the file type), owner and all timestamps
    /// (access, change, modification and creation all equal `mtime`).
    func setAttributes(_ ino: ext2_ino_t, mode: UInt16?, uid: UInt32, gid: UInt32, mtime: Int64) throws {
        var inode = try readInode(ino)
        if let mode {
            inode.i_mode = (inode.i_mode & Self.typeMask) | (mode & 0o7777)
        }
        inode.i_uid = UInt16(truncatingIfNeeded: uid)
        inode.osd2.linux2.l_i_uid_high = UInt16(truncatingIfNeeded: uid >> 16)
        inode.i_gid = UInt16(truncatingIfNeeded: gid)
        inode.osd2.linux2.l_i_gid_high = UInt16(truncatingIfNeeded: gid >> 16)
        let time = Self.encodeTime(mtime)
        inode.i_atime = time.low
        inode.i_ctime = time.low
        inode.i_mtime = time.low
        let inodeSize = Int(try handle().pointee.super.pointee.s_inode_size)
        let extra = inodeSize > 128 ? Int(inode.i_extra_isize) : 0
        if extra >= 8 { inode.i_ctime_extra = time.extra }
        if extra >= 12 { inode.i_mtime_extra = time.extra }
        if extra >= 16 { inode.i_atime_extra = time.extra }
        if extra >= 20 { inode.i_crtime = time.low }
        if extra >= 24 { inode.i_crtime_extra = time.extra }
        try writeInode(ino, inode)
    }

    /// Allocates an inode near `parent`, links it as `name` and writes a fresh inode
    /// of the given type (extent-mapped when the filesystem has extents).
    func createInode(parent: ext2_ino_t, name: String, type: UInt16, path: String) throws -> ext2_ino_t {
        let fs = try writableHandle()
        var ino: ext2_ino_t = 0
        try Ext4Error.check(ext2fs_new_inode(fs, parent, Int32(type | 0o644), nil, &ino), "ext2fs_new_inode", path)
        try link(parent: parent, name: name, ino: ino, fileType: type == Self.typeSymlink ? 7 : 1, path: path)
        ext2fs_inode_alloc_stats2(fs, ino, 1, 0)

        var inode = ext2_inode()
        inode.i_mode = type | 0o644
        inode.i_links_count = 1
        if ext2fs_has_feature_extents(fs.pointee.super) != 0 {
            var extents: ext2_extent_handle_t?
            try Ext4Error.check(ext2fs_extent_open2(fs, ino, &inode, &extents), "ext2fs_extent_open2", path)
            ext2fs_extent_free(extents)
        }
        try Ext4Error.check(ext2fs_write_new_inode(fs, ino, &inode), "ext2fs_write_new_inode", path)
        return ino
    }

    /// Adds a directory entry, growing the directory by a block when it is full.
    func link(parent: ext2_ino_t, name: String, ino: ext2_ino_t, fileType: Int32, path: String) throws {
        let fs = try writableHandle()
        var code = ext2fs_link(fs, parent, name, ino, fileType)
        if code == errcode_t(EXT2_ET_DIR_NO_SPACE) {
            try Ext4Error.check(ext2fs_expand_dir(fs, parent), "ext2fs_expand_dir", path)
            code = ext2fs_link(fs, parent, name, ino, fileType)
        }
        try Ext4Error.check(code, "ext2fs_link", path)
    }

    /// Removes the entry `name` (not a directory) from `parent`; when that was the
    /// inode's last link its blocks, extended-attribute block and inode are freed.
    func removeEntry(parent: ext2_ino_t, name: String, ino: ext2_ino_t, path: String) throws {
        let fs = try writableHandle()
        var inode = try readInode(ino)
        if inode.i_mode & Self.typeMask == Self.typeDirectory { throw Ext4Error.isADirectory(path: path) }
        try Ext4Error.check(ext2fs_unlink(fs, parent, name, ino, 0), "ext2fs_unlink", path)
        if inode.i_links_count > 1 {
            inode.i_links_count -= 1
            try writeInode(ino, inode)
            return
        }
        var released: [blk64_t] = []
        try withSmallInode(&inode) { small in
            if ext2fs_inode_has_valid_blocks2(fs, small) != 0 {
                released = try blocks(of: ino, path: path)
                try Ext4Error.check(ext2fs_punch(fs, ino, small, nil, 0, ~0), "ext2fs_punch", path)
            }
        }
        inode = try readInode(ino)
        let aclBlock = blk64_t(inode.i_file_acl) | blk64_t(inode.osd2.linux2.l_i_file_acl_high) << 32
        if aclBlock != 0 {
            var count: UInt32 = 0
            try Ext4Error.check(ext2fs_adjust_ea_refcount3(fs, aclBlock, nil, -1, &count, ino),
                                "ext2fs_adjust_ea_refcount3", path)
            if count == 0 {
                ext2fs_block_alloc_stats2(fs, aclBlock, -1)
                released.append(aclBlock)
            }
            inode.i_file_acl = 0
            inode.osd2.linux2.l_i_file_acl_high = 0
        }
        inode.i_links_count = 0
        inode.i_dtime = UInt32(truncatingIfNeeded: now)
        try writeInode(ino, inode)
        ext2fs_inode_alloc_stats2(fs, ino, -1, 0)
        try zero(released, path: path)
    }

    /// Every block an inode owns: data blocks and mapping blocks (extent tree nodes
    /// or indirect blocks).
    func blocks(of ino: ext2_ino_t, path: String) throws -> [blk64_t] {
        let fs = try handle()
        var found: [blk64_t] = []
        let code = withUnsafeMutablePointer(to: &found) { list in
            ext2fs_block_iterate3(fs, ino, BLOCK_FLAG_READ_ONLY, nil, { _, block, _, _, _, context in
                if let block, let context {
                    context.assumingMemoryBound(to: [blk64_t].self).pointee.append(block.pointee)
                }
                return 0
            }, list)
        }
        try Ext4Error.check(code, "ext2fs_block_iterate3", path)
        return found
    }

    /// Overwrites freed blocks with zeros, so that bytes outside the allocated ranges
    /// (and so outside the `.bmap`) are all zero and an image flashed with or without
    /// the map reads the same.
    func zero(_ blocks: [blk64_t], path: String) throws {
        let fs = try writableHandle()
        var index = 0
        let sorted = blocks.sorted()
        while index < sorted.count {
            var end = index + 1
            while end < sorted.count, sorted[end] == sorted[end - 1] + 1 { end += 1 }
            try Ext4Error.check(ext2fs_zero_blocks2(fs, sorted[index], Int32(end - index), nil, nil),
                                "ext2fs_zero_blocks2", path)
            index = end
        }
    }

    func withSmallInode<R>(_ inode: inout ext2_inode_large, _ body: (UnsafeMutablePointer<ext2_inode>) throws -> R) throws -> R {
        try withUnsafeMutablePointer(to: &inode) {
            try $0.withMemoryRebound(to: ext2_inode.self, capacity: 1) { try body($0) }
        }
    }
}
