#if canImport(Glibc)
import Glibc
#endif
import SystemIO

/// A span of bytes inside an image file, in absolute file offsets.
public struct ByteRange: Hashable, Sendable, CustomStringConvertible {
    /// Offset of the first byte from the start of the image file.
    public var offset: UInt64
    /// Number of bytes.
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }

    /// One past the last byte.
    public var end: UInt64 { offset + length }

    public var description: String { "[\(offset), \(end))" }

    /// Sorts `ranges` and merges the ones that touch or overlap.
    public static func merged(_ ranges: [ByteRange]) -> [ByteRange] {
        var result: [ByteRange] = []
        for range in ranges.sorted(by: { $0.offset < $1.offset }) where range.length > 0 {
            if let last = result.last, range.offset <= last.end {
                result[result.count - 1].length = max(last.end, range.end) - last.offset
            } else {
                result.append(range)
            }
        }
        return result
    }
}

/// Errors of `ImageFile`.
public enum ImageFileError: Error, Equatable, CustomStringConvertible {
    case open(path: String, errno: Errno)
    case stat(path: String, errno: Errno)
    case read(path: String, offset: UInt64, errno: Errno)
    case shortRead(path: String, offset: UInt64, wanted: Int, got: Int)
    case write(path: String, offset: UInt64, errno: Errno)
    case readOnly(path: String)

    public var description: String {
        switch self {
        case let .open(path, e): "cannot open \(path): \(e)"
        case let .stat(path, e): "cannot stat \(path): \(e)"
        case let .read(path, offset, e): "cannot read \(path) at byte \(offset): \(e)"
        case let .shortRead(path, offset, wanted, got):
            "cannot read \(path) at byte \(offset): wanted \(wanted) bytes, the file ends after \(got)"
        case let .write(path, offset, e): "cannot write \(path) at byte \(offset): \(e)"
        case let .readOnly(path): "cannot write \(path): opened read-only"
        }
    }
}

/// Random-access I/O on an image file: `pread`/`pwrite` at absolute offsets.
///
/// The file descriptor is owned by the instance and closed in `deinit`.
public final class ImageFile {
    /// The path the file was opened with (used in error messages).
    public let path: String
    /// Whether `write(_:at:)` is allowed.
    public let writable: Bool
    private let fd: Int32

    /// Opens `path` read-only, or read-write when `writable` is true.
    public init(path: String, writable: Bool) throws {
        let fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw ImageFileError.open(path: path, errno: .current) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = Errno.current
            close(fd)
            throw ImageFileError.stat(path: path, errno: e)
        }
        self.path = path
        self.writable = writable
        self.fd = fd
        self.size = UInt64(st.st_size)
    }

    deinit { close(fd) }

    /// Size of the file in bytes: taken at open, grown by writes past the end.
    public private(set) var size: UInt64

    /// Reads exactly `count` bytes at absolute offset `offset`; a read past the end throws.
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let got: Int
        do {
            got = try buffer.withUnsafeMutableBytes { raw in try FileIO.read(fd, into: raw, at: offset) }
        } catch let failure as IOFailure {
            throw ImageFileError.read(path: path, offset: failure.offset, errno: failure.errno)
        }
        guard got == count else { throw ImageFileError.shortRead(path: path, offset: offset, wanted: count, got: got) }
        return buffer
    }

    /// Writes all of `bytes` at absolute offset `offset`.
    public func write(_ bytes: [UInt8], at offset: UInt64) throws {
        guard writable else { throw ImageFileError.readOnly(path: path) }
        do {
            try FileIO.write(fd, bytes, at: offset)
        } catch {
            throw ImageFileError.write(path: path, offset: error.offset, errno: error.errno)
        }
        size = max(size, offset + UInt64(bytes.count))
    }
}

/// Little-endian field access on byte arrays (explicit, never a struct's memory image).
package enum BytesLE {
    package static func u16(_ b: [UInt8], _ at: Int) -> UInt16 {
        UInt16(b[at]) | UInt16(b[at + 1]) << 8
    }

    package static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    package static func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32
    }

    package static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
        b[at] = UInt8(truncatingIfNeeded: v)
        b[at + 1] = UInt8(truncatingIfNeeded: v >> 8)
    }

    package static func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}
