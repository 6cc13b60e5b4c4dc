import DiskFormats
import CExt2fs

/// Creating directories, files and symlinks with exact metadata.
///
/// Missing parent directories are created 0755 root:root with the entry's time.
/// A file or symlink replaces whatever non-directory entry had its name (the old
/// entry is unlinked and, at its last link, its blocks and inode are freed), the way
/// unpacking a tarball does; a final symlink is replaced, not written through.
/// Symlinks on the way are followed inside the image or refused, by `writeSymlinks`.
extension Ext4Volume {
    /// Creates `path` as a directory, or updates mode/owner/times of the directory
    /// already there (a final symlink to a directory is followed, so `lib` on a
    /// merged-/usr system updates `usr/lib`; with `writeSymlinks == .refuse` it is an error).
    public func makeDirectory(_ path: String, mode: UInt16, uid: UInt32, gid: UInt32, mtime: Int64) throws {
        _ = try writableHandle()
        var hops = 0
        let refuse = writeSymlinks == .refuse
        guard let parent = try walkParent(path, createAt: mtime, hops: &hops, refuseSymlinks: refuse) else { return }
        if refuse, let final = try lookupChild(parent.directory, parent.name) {
            let inode = try readInode(final)
            if inode.i_mode & Self.typeMask == Self.typeSymlink {
                let link = (parent.directoryPath + [parent.name]).joined(separator: "/")
                throw Ext4Error.symlinkInPath(path: path, link: link, target: try readLink(final, inode, path: path))
            }
        }
        let ino: ext2_ino_t
        if let existing = try resolve(path, followLast: true) {
            guard try readInode(existing).i_mode & Self.typeMask == Self.typeDirectory else {
                throw Ext4Error.notADirectory(path: path)
            }
            ino = existing
        } else {
            guard try lookupChild(parent.directory, parent.name) == nil else {
                throw Ext4Error.notADirectory(path: path)
            }
            try Self.requireName(parent.name, path: path)
            ino = try createDirectory(parent: parent.directory, name: parent.name, mtime: mtime, path: path)
        }
        try setAttributes(ino, mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    /// Creates or replaces the regular file `path` with `bytes`.
    public func writeFile(_ path: String, bytes: [UInt8], mode: UInt16, uid: UInt32, gid: UInt32, mtime: Int64) throws {
        let fs = try writableHandle()
        let parent = try replaceableParent(path, mtime: mtime)
        let ino = try createInode(parent: parent.directory, name: parent.name, type: Self.typeRegular, path: path)
        if !bytes.isEmpty {
            var file: ext2_file_t?
            try Ext4Error.check(ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &file), "ext2fs_file_open", path)
            var done = 0
            var status: errcode_t = 0
            while done < bytes.count, status == 0 {
                var written: UInt32 = 0
                status = bytes.withUnsafeBytes {
                    ext2fs_file_write(file, $0.baseAddress! + done, UInt32(min(bytes.count - done, 1 << 20)), &written)
                }
                done += Int(written)
            }
            if status == 0 { status = ext2fs_file_set_size2(file, ext2_off64_t(bytes.count)) }
            let closed = ext2fs_file_close(file)
            try Ext4Error.check(status, "ext2fs_file_write", path)
            try Ext4Error.check(closed, "ext2fs_file_close", path)
        }
        try setAttributes(ino, mode: mode, uid: uid, gid: gid, mtime: mtime)
    }

    /// Creates or replaces `path` as a symlink to `target` (stored verbatim). Targets
    /// under 60 bytes live in the inode (fast symlink), longer ones in a block.
    /// The mode of a symlink is always 0777.
    public func makeSymlink(_ path: String, target: String, uid: UInt32, gid: UInt32, mtime: Int64) throws {
        let fs = try writableHandle()
        let limit = Int(fs.pointee.blocksize) - 1
        guard !target.isEmpty else { throw Ext4Error.invalidPath(path: path) }
        guard target.utf8.count <= limit else {
            throw Ext4Error.symlinkTargetTooLong(path: path, length: target.utf8.count, limit: limit)
        }
        let parent = try replaceableParent(path, mtime: mtime)
        var code = ext2fs_symlink(fs, parent.directory, 0, parent.name, target)
        if code == errcode_t(EXT2_ET_DIR_NO_SPACE) {
            try Ext4Error.check(ext2fs_expand_dir(fs, parent.directory), "ext2fs_expand_dir", path)
            code = ext2fs_symlink(fs, parent.directory, 0, parent.name, target)
        }
        try Ext4Error.check(code, "ext2fs_symlink", path)
        guard let ino = try lookupChild(parent.directory, parent.name) else {
            throw Ext4Error.library(operation: "ext2fs_symlink", path: path, code: 0, message: "entry missing after creation")
        }
        try setAttributes(ino, mode: nil, uid: uid, gid: gid, mtime: mtime)
    }

    /// Resolves the parent of `path` (creating missing directories) and clears the
    /// final name: an existing non-directory entry is removed, a directory refused.
    func replaceableParent(_ path: String, mtime: Int64) throws -> Parent {
        var hops = 0
        guard let parent = try walkParent(path, createAt: mtime, hops: &hops, refuseSymlinks: writeSymlinks == .refuse) else {
            throw Ext4Error.invalidPath(path: path)
        }
        try Self.requireName(parent.name, path: path)
        if let existing = try lookupChild(parent.directory, parent.name) {
            try removeEntry(parent: parent.directory, name: parent.name, ino: existing, path: path)
        }
        return parent
    }

    static func requireName(_ name: String, path: String) throws {
        guard name != ".", name != ".." else { throw Ext4Error.invalidPath(path: path) }
    }
}
