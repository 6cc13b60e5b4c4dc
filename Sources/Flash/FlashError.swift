#if canImport(Glibc)
import Glibc
#endif
import SystemIO

/// Why a flash stopped. Every case names the file, URL or device concerned.
public enum FlashError: Error, Equatable, CustomStringConvertible {
    /// A system call on `path` failed.
    case io(String, String, Errno)
    /// A range's sha256 from the bmap differs from the bytes streamed.
    case rangeChecksum(first: UInt64, last: UInt64, expected: String, actual: String)
    /// A file's sha256 differs from its line in SHA256SUMS.
    case fileChecksum(String, expected: String, actual: String)
    /// The image ended before the last mapped block.
    case truncated(String, got: UInt64, needed: UInt64)
    /// The source decoded to nothing.
    case empty(String)
    /// The bytes read back from the target differ from what was written.
    case readback(target: String, first: UInt64, last: UInt64)
    /// A bmap given with --bmap or listed in a zip could not be read or parsed.
    case bmap(String, String)
    /// The zip holds no image, or more than one.
    case zip(String, String)
    /// A safety check refused the target.
    case refused(String)

    public var description: String {
        switch self {
        case let .io(path, what, errno): "\(path): cannot \(what): \(errno)"
        case let .rangeChecksum(first, last, expected, actual):
            "blocks \(first)-\(last): sha256 \(actual) but the bmap says \(expected): the download is corrupted or the bmap belongs to another image"
        case let .fileChecksum(name, expected, actual):
            "\(name): sha256 \(actual) but SHA256SUMS says \(expected): the file is corrupted"
        case let .truncated(name, got, needed):
            "\(name): the image ends after \(got) bytes, the bmap maps blocks up to byte \(needed)"
        case let .empty(name): "\(name): holds no image data"
        case let .readback(target, first, last):
            "\(target): read-back of blocks \(first)-\(last) differs from what was written: the medium is faulty or was changed meanwhile"
        case let .bmap(name, reason): "\(name): \(reason)"
        case let .zip(name, reason): "\(name): \(reason)"
        case let .refused(reason): reason
        }
    }

    /// A system call on `path` just failed: the thread's errno now.
    static func errno(_ path: String, _ what: String) -> FlashError { .io(path, what, .current) }
}
