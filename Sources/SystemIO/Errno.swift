#if canImport(Glibc)
import Glibc
#endif

/// An errno value as a typed field. Errors carry it and their path as fields; the text comes
/// from `strerror` only when a message is built, and no code ever reads a message back to learn
/// which errno it was.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's `errno`, read right after the failed call.
    public static var current: Errno { Errno(errno) }

    public static let noSpace = Errno(ENOSPC)

    /// `strerror`'s text: `No space left on device`.
    public var description: String { String(cString: strerror(rawValue)) }

    /// The errno values a write fails with when the written file system (not the data) is the
    /// problem, by their symbolic names.
    public static let writeFailures: [Errno: String] = [
        Errno(ENOSPC): "ENOSPC", Errno(EDQUOT): "EDQUOT", Errno(EFBIG): "EFBIG",
        Errno(EIO): "EIO", Errno(EROFS): "EROFS", Errno(EACCES): "EACCES",
    ]

    /// `No space left on device (ENOSPC)` for the ``writeFailures``, else the plain text.
    public var describedAsWriteFailure: String {
        Self.writeFailures[self].map { "\(description) (\($0))" } ?? description
    }
}
