#if canImport(Glibc)
import Glibc
#endif

/// Where compressed or raw bytes come from: a file, or a download the flash command streams.
public protocol ByteSource: AnyObject {
    /// A name for messages (a path or a URL).
    var name: String { get }
    /// Reads up to `buffer.count` bytes; 0 means the end. Throws on I/O errors.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A file read sequentially, opened read-only.
public final class FileByteSource: ByteSource {
    public let name: String
    private let fd: Int32

    public init(path: String) throws(ArchiveError) {
        name = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .libarchive(path, String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw ArchiveError.libarchive(name, String(cString: strerror(errno))) }
        }
    }
}
