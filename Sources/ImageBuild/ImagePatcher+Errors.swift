import Artifacts
import DiskFormats
import Archives
import SystemIO
import Foundation

/// Which file a failure is about. Until the image is patched, BASE is read and the temporary
/// copy of OUT is written: a failed write (a full disk, a quota, a file size limit) is OUT's
/// problem and says so, with the errno's name; anything else is about what BASE holds. From
/// the bmap on, only OUT's files are touched.
extension ImagePatcher {
    /// Errors of the extract and patch phases.
    func blame(_ error: Error) -> ImagePatchError {
        if let reason = Self.writeFailure(error) { return .output(request.output, reason) }
        return .badBase(request.base, ErrorText.about(request.base, error))
    }

    /// Errors of the phases after patching (bmap, compress, checksum, publish).
    func blameOutput(_ error: Error) -> ImagePatchError {
        if let known = error as? ImagePatchError { return known }
        return .output(request.output, Self.writeFailure(error) ?? "\(error)")
    }

    /// The reason when `error` is a failed write, else nil.
    static func writeFailure(_ error: Error) -> String? {
        switch error {
        case ImageSourceError.write(_, let errno), ImageFileError.write(_, _, let errno), ChecksumError.write(_, let errno):
            return errno.describedAsWriteFailure
        case Ext4Error.library(_, _, let code, _) where Errno.writeFailures[Errno(Int32(truncatingIfNeeded: code))] != nil:
            // libext2fs passes the io manager's errno through as its errcode_t.
            return Errno(Int32(truncatingIfNeeded: code)).describedAsWriteFailure
        case let failure as ArchiveError:
            return failure.errno.flatMap { Errno.writeFailures[$0] }.map { "\(failure.reason) (\($0))" } ?? failure.reason
        default: return nil
        }
    }
}
