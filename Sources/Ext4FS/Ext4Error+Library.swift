import CExt2fs
import DiskFormats

/// libext2fs codes as ``Ext4Error``s (the enum lives in DiskFormats, free of libext2fs, so the
/// superblock preflight and its fuzz target do not link it).
extension Ext4Error {
    /// Wraps a libext2fs `errcode_t`: running out of blocks or inodes becomes ``full``, any
    /// other code ``library`` with com_err's message for it. ENOSPC is not the rootfs being
    /// full: it comes from the image file's own disk (the io manager's pwrite) and is blamed
    /// on OUT by the patcher.
    static func check(_ code: errcode_t, _ operation: String, _ path: String) throws {
        guard code != 0 else { return }
        switch code {
        case errcode_t(EXT2_ET_BLOCK_ALLOC_FAIL):
            throw Ext4Error.full(path: path, resource: "blocks", operation: operation)
        case errcode_t(EXT2_ET_INODE_ALLOC_FAIL):
            throw Ext4Error.full(path: path, resource: "inodes", operation: operation)
        default:
            throw Ext4Error.library(operation: operation, path: path, code: Int64(code), message: message(code))
        }
    }

    /// com_err's text for a libext2fs code or an errno. The ext2 table is registered first:
    /// libext2fs does not do it itself, and without it every ext2 code reads
    /// "Unknown code ext2 NN".
    static func message(_ code: errcode_t) -> String {
        _ = errorTableRegistered
        return error_message(code).map { String(cString: $0) } ?? "unknown error \(code)"
    }

    /// Registers libext2fs's error table with com_err, once per process.
    private static let errorTableRegistered: Bool = {
        initialize_ext2_error_table()
        return true
    }()
}
