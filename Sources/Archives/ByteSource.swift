#if canImport(Glibc)
import Glibc
import SystemIO
#endif

/// Where compressed or raw bytes come from: a file, or a download the flash command streams.
public protocol ByteSource: AnyObject {
    /// A name for messages (a path or a URL).
    var name: String { get }
    /// Reads up to `buffer.count` bytes; 0 means the end. Throws on I/O errors.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads to the end in pieces of up to `bufferSize` bytes (a 4096-aligned buffer), handing
    /// each to `body` with its offset in the stream. Returns the bytes read.
    @discardableResult
    public func forEachChunk(bufferSize: Int = 4 << 20,
                             _ body: (UnsafeRawBufferPointer, UInt64) throws -> Void) throws -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while true {
            let count = try read(into: buffer)
            if count == 0 { return offset }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]), offset)
            offset += UInt64(count)
        }
    }
}

/// A file read sequentially, opened read-only.
public final class FileByteSource: ByteSource {
    public let name: String
    private let fd: Int32

    public init(path: String) throws(ArchiveError) {
        name = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(path, .current) }
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do {
            return try FileIO.readSome(fd, into: buffer)
        } catch {
            throw ArchiveError.system(name, error.errno)
        }
    }
}
