import DiskFormats
import CExt2fs

/// Path resolution inside the image.
///
/// Symlinks met on the way are followed *within* the image: an absolute target
/// starts again at the image's root, `..` stops at the root, and after 40 links the
/// walk gives up. So on Debian, where `/lib -> usr/lib`, the path
/// `lib/systemd/system/x` names `usr/lib/systemd/system/x`, and no target can lead
/// outside the filesystem.
///
/// Writes can be stricter (``Ext4WriteSymlinks/refuse``, what build-image uses): a
/// base image whose `/etc/udev/rules.d` is a symlink to `/tmp/evil`, or whose
/// `/etc/systemd/system` points at `/boot/firmware`, would otherwise receive the
/// overlay somewhere nobody looks (or under a mount point, hidden at boot).
extension Ext4Volume {
    static let maxSymlinkHops = 40

    /// The parent directory a path lands in, and the final name (not followed).
    struct Parent {
        var directory: ext2_ino_t
        /// Names from the root to `directory`, symlinks already resolved.
        var directoryPath: [String]
        var name: String
    }

    /// Splits a path into names, dropping empty and `.` parts; the root is `["."]`.
    static func components(_ path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            .map(String.init)
            .filter { $0 != "." }
        return parts.isEmpty ? ["."] : parts
    }

    /// Walks every component but the last, following symlinks. A missing directory
    /// is created (0755 root:root, times `createAt`) when `createAt` is given;
    /// otherwise the walk returns nil. A component that exists but is neither a
    /// directory nor a symlink to one is an error. With `refuseSymlinks`, a `..` in
    /// `path` and any symlink met are errors instead.
    func walkParent(_ path: String, createAt: Int64?, hops: inout Int, refuseSymlinks: Bool = false) throws -> Parent? {
        var queue = Self.components(path)
        if refuseSymlinks, queue.contains("..") { throw Ext4Error.invalidPath(path: path) }
        var stack: [(ino: ext2_ino_t, name: String)] = []
        func current() -> ext2_ino_t { stack.last?.ino ?? Self.rootInode }
        while queue.count > 1 {
            let name = queue.removeFirst()
            if name == ".." {
                if !stack.isEmpty { stack.removeLast() }
                continue
            }
            let dir = current()
            guard let child = try lookupChild(dir, name) else {
                guard let createAt else { return nil }
                stack.append((try createDirectory(parent: dir, name: name, mtime: createAt, path: path), name))
                continue
            }
            let inode = try readInode(child)
            switch inode.i_mode & Self.typeMask {
            case Self.typeDirectory:
                stack.append((child, name))
            case Self.typeSymlink:
                hops += 1
                guard hops <= Self.maxSymlinkHops else { throw Ext4Error.symlinkLoop(path: path) }
                let target = try readLink(child, inode, path: path)
                if refuseSymlinks {
                    throw Ext4Error.symlinkInPath(path: path, link: (stack.map(\.name) + [name]).joined(separator: "/"), target: target)
                }
                if target.hasPrefix("/") { stack.removeAll() }
                queue = Self.components(target).filter { $0 != "." } + queue
            default:
                let prefix = (stack.map(\.name) + [name]).joined(separator: "/")
                throw Ext4Error.notADirectory(path: prefix)
            }
        }
        return Parent(directory: current(), directoryPath: stack.map(\.name), name: queue[0])
    }

    /// The inode a path names, or nil when some part of it does not exist. With
    /// `followLast`, a final symlink is followed too (like `stat`), else not (`lstat`).
    func resolve(_ path: String, followLast: Bool) throws -> ext2_ino_t? {
        var hops = 0
        var path = path
        while true {
            guard let parent = try walkParent(path, createAt: nil, hops: &hops),
                  let ino = try lookupChild(parent.directory, parent.name) else { return nil }
            guard followLast else { return ino }
            let inode = try readInode(ino)
            guard inode.i_mode & Self.typeMask == Self.typeSymlink else { return ino }
            hops += 1
            guard hops <= Self.maxSymlinkHops else { throw Ext4Error.symlinkLoop(path: path) }
            let target = try readLink(ino, inode, path: path)
            path = target.hasPrefix("/") ? target : (parent.directoryPath + [target]).joined(separator: "/")
        }
    }

    /// Looks `name` up in directory `dir`; nil when absent. `.` and `..` resolve as
    /// the directory itself and its parent (the root's parent is the root).
    func lookupChild(_ dir: ext2_ino_t, _ name: String) throws -> ext2_ino_t? {
        let fs = try handle()
        var ino: ext2_ino_t = 0
        let code = ext2fs_lookup(fs, dir, name, Int32(name.utf8.count), nil, &ino)
        if code == errcode_t(EXT2_ET_FILE_NOT_FOUND) { return nil }
        try Ext4Error.check(code, "ext2fs_lookup", name)
        return ino
    }

    /// A symlink's target: fast symlinks keep it in the inode's block array, slow
    /// ones in a data block.
    func readLink(_ ino: ext2_ino_t, _ inode: ext2_inode_large, path: String) throws -> String {
        var inode = inode
        if inode.i_flags & Self.inlineDataFlag != 0 { throw Ext4Error.inlineData(path: path) }
        let fast = try withSmallInode(&inode) { ext2fs_is_fast_symlink($0) != 0 }
        let bytes: [UInt8]
        if fast {
            bytes = withUnsafeBytes(of: inode.i_block) { Array($0.prefix(Int(inode.i_size))) }
        } else {
            bytes = try readContent(ino, path: path)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Creates a directory entry `name` in `parent` with mode 0755, owner root and
    /// all times `mtime`.
    func createDirectory(parent: ext2_ino_t, name: String, mtime: Int64, path: String) throws -> ext2_ino_t {
        let fs = try writableHandle()
        var code = ext2fs_mkdir(fs, parent, 0, name)
        if code == errcode_t(EXT2_ET_DIR_NO_SPACE) {
            try Ext4Error.check(ext2fs_expand_dir(fs, parent), "ext2fs_expand_dir", path)
            code = ext2fs_mkdir(fs, parent, 0, name)
        }
        try Ext4Error.check(code, "ext2fs_mkdir", path)
        guard let ino = try lookupChild(parent, name) else {
            throw Ext4Error.library(operation: "ext2fs_mkdir", path: path, code: 0, message: "directory missing after creation")
        }
        try setAttributes(ino, mode: 0o755, uid: 0, gid: 0, mtime: mtime)
        return ino
    }
}

/// How writes treat a symlink that already exists in the image on the way to what
/// they write.
public enum Ext4WriteSymlinks: Sendable {
    /// Followed inside the image, like reads: `lib/x` lands in `usr/lib/x` when
    /// `lib -> usr/lib`.
    case followInside
    /// Refused with ``Ext4Error/symlinkInPath(path:link:target:)``: a symlink as a
    /// directory part of the path, or as the final name given to `makeDirectory`;
    /// a `..` in the path is refused too. A final symlink that `writeFile` or
    /// `makeSymlink` replaces is still unlinked and replaced, never written through.
    case refuse
}
