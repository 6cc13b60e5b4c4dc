/// Errors raised while reading or patching an ext4 root filesystem.
public enum Ext4Error: Error, Equatable, CustomStringConvertible {
    /// The bytes at the superblock position do not hold an ext2/3/4 superblock.
    case notExt4(path: String, offset: UInt64)
    /// The filesystem uses a feature this patcher does not know how to keep consistent.
    case unsupportedFeature(name: String, kind: String, mask: UInt32, action: String)
    /// The superblock describes a file system larger than the partition holding it (or a block
    /// size beyond 64 KiB): patching it would write outside the partition.
    case largerThanPartition(path: String, offset: UInt64, fileSystemBytes: UInt64?, partitionBytes: UInt64)
    /// The journal holds transactions that were never replayed.
    case needsRecovery
    /// The superblock says the filesystem was not cleanly unmounted or the kernel found errors
    /// in it (`s_state` without `EXT2_VALID_FS`, or with `EXT2_ERROR_FS`); `state` is `s_state`.
    case notClean(state: UInt16)
    /// The filesystem has no room left for what is being written to `path`: no free blocks
    /// (`resource` "blocks") or no free inodes ("inodes").
    case full(path: String, resource: String, operation: String)
    /// A libext2fs call failed; `message` is com_err's text for the code.
    case library(operation: String, path: String, code: Int64, message: String)
    /// A path component that must be a directory is something else.
    case notADirectory(path: String)
    /// The final path component is a directory where a file or symlink was asked for.
    case isADirectory(path: String)
    /// A write met a symlink of the image (`link`, relative to the root) on its way to
    /// `path` while symlinks are refused (``Ext4WriteSymlinks/refuse``).
    case symlinkInPath(path: String, link: String, target: String)
    /// More than 40 symlinks were followed while resolving a path.
    case symlinkLoop(path: String)
    /// The path is empty or does not end in a name (e.g. `/`, `a/..`).
    case invalidPath(path: String)
    /// A symlink target is longer than one filesystem block.
    case symlinkTargetTooLong(path: String, length: Int, limit: Int)
    /// A file uses inline data, which this patcher does not read or rewrite.
    case inlineData(path: String)
    /// A write was attempted on a volume opened read-only.
    case readOnly
    /// The volume was used after `close()`.
    case closed

    public var description: String {
        switch self {
        case .notExt4(let path, let offset):
            return "rootfs: no ext2/3/4 superblock in '\(path)' at byte offset \(offset)"
        case .unsupportedFeature(let name, let kind, let mask, let action):
            let hex = "0x" + String(mask, radix: 16)
            return "rootfs: ext4 feature '\(name)' (\(kind) \(hex)) is not supported; refusing to \(action)"
        case .largerThanPartition(let path, let offset, let size, let partition):
            let what = size.map { "\($0) bytes" } ?? "an unsupported block size"
            return "rootfs: the ext4 file system at byte offset \(offset) of '\(path)' says it has \(what), but its partition holds \(partition) bytes; refusing to open it (fsck or resize the file system, or fix the partition table)"
        case .needsRecovery:
            return "rootfs: the ext4 journal needs recovery (filesystem not cleanly unmounted); run e2fsck first"
        case .notClean(let state):
            let what = state & Ext4Superblock.errorState != 0 ? "has errors" : "was not cleanly unmounted"
            return "rootfs: the ext4 filesystem \(what) (superblock state 0x\(String(state, radix: 16))); refusing to patch it: run `e2fsck -f` on the image's rootfs partition, or use a clean image"
        case .full(let path, let resource, let operation):
            return "rootfs: the file system is full (no free \(resource) left) writing '/\(path)' (\(operation)); use a base image with a larger rootfs"
        case .library(let operation, let path, let code, let message):
            return "rootfs: \(operation) failed for '\(path)': \(message) (error \(code))"
        case .notADirectory(let path):
            return "rootfs: '\(path)' is not a directory"
        case .isADirectory(let path):
            return "rootfs: '\(path)' is a directory"
        case .symlinkInPath(let path, let link, let target):
            return "rootfs: refusing to write /\(path): /\(link) is a symlink (-> \(target)) in the image, and fpga-lab never writes through symlinks"
        case .symlinkLoop(let path):
            return "rootfs: too many levels of symbolic links resolving '\(path)'"
        case .invalidPath(let path):
            return "rootfs: invalid path '\(path)': it must name an entry below the root"
        case .symlinkTargetTooLong(let path, let length, let limit):
            return "rootfs: symlink target of '\(path)' is \(length) bytes; the limit is \(limit)"
        case .inlineData(let path):
            return "rootfs: '\(path)' stores inline data, which is not supported"
        case .readOnly:
            return "rootfs: the volume was opened read-only"
        case .closed:
            return "rootfs: the volume is closed"
        }
    }
}
