import Archives
import Foundation

/// Which file a failure is about. Until the image is patched, BASE is read and the temporary
/// copy of OUT is written: a failed write (a full disk, a quota, a file size limit) is OUT's
/// problem and says so, with the errno's name; anything else is about what BASE holds. From
/// the bmap on, only OUT's files are touched.
extension ImagePatcher {
    /// Errors of the extract and patch phases.
    func blame(_ error: Error) -> ImagePatchError {
        if let reason = Self.writeFailure(error) { return .output(request.output, reason) }
        return .badBase(request.base, "\(error)")
    }

    /// Errors of the phases after patching (bmap, compress, checksum, publish).
    func blameOutput(_ error: Error) -> ImagePatchError {
        if let known = error as? ImagePatchError { return known }
        return .output(request.output, Self.writeFailure(error) ?? "\(error)")
    }

    /// The reason when `error` is a failed write, else nil.
    static func writeFailure(_ error: Error) -> String? {
        switch error {
        case ImageSourceError.write(_, let reason): return annotated(reason)
        case ImageFileError.write(_, _, let code): return describe(code)
        case Ext4Error.library(_, _, let code, _) where writeErrnos.keys.contains(Int32(truncatingIfNeeded: code)):
            return describe(Int32(truncatingIfNeeded: code))
        case ArchiveError.libarchive(_, let message): return annotated(message)
        case ChecksumError.write(_, let code): return describe(code)
        default: return nil
        }
    }

    /// The errno values a write to OUT fails with when OUT's file system is the problem.
    static let writeErrnos: [Int32: String] = [
        ENOSPC: "ENOSPC", EDQUOT: "EDQUOT", EFBIG: "EFBIG", EIO: "EIO", EROFS: "EROFS", EACCES: "EACCES",
    ]

    /// `No space left on device (ENOSPC)`.
    static func describe(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return writeErrnos[code].map { "\(text) (\($0))" } ?? text
    }

    /// Adds the errno's name to a message that ends in one of `writeErrnos`' texts.
    static func annotated(_ message: String) -> String {
        for (code, name) in writeErrnos where message.hasSuffix(String(cString: strerror(code))) {
            return "\(message) (\(name))"
        }
        return message
    }
}
