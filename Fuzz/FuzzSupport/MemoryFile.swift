import CFuzzSupport

#if canImport(Glibc)
import Glibc
#endif

/// An in-memory file (`memfd_create`) that fuzz targets fill with an input and hand to code
/// that opens a path (`ImageFile`): `path` reopens it through /proc/self/fd. Bytes never
/// written (holes) read as zeros and cost no memory.
public final class MemoryFile {
    private let fd: Int32
    /// A path that opens this file (read-only or read-write).
    public let path: String

    public init(name: String) {
        fd = memfd_create(name, 0)
        precondition(fd >= 0, "memfd_create failed: errno \(errno)")
        path = "/proc/self/fd/\(fd)"
    }

    deinit { close(fd) }

    /// Replaces the content with `bytes` followed by zeros up to `size` bytes.
    public func replace(with bytes: [UInt8], size: Int) {
        resize(0)
        write(bytes, at: 0)
        resize(max(size, bytes.count))
    }

    /// Sets the size; bytes past the old end read as zeros.
    public func resize(_ size: Int) {
        precondition(ftruncate(fd, off_t(size)) == 0, "ftruncate failed: errno \(errno)")
    }

    /// Writes `bytes` at `offset`, growing the file as needed.
    public func write(_ bytes: [UInt8], at offset: Int) {
        var done = 0
        bytes.withUnsafeBytes { raw in
            while done < bytes.count {
                let n = pwrite(fd, raw.baseAddress! + done, bytes.count - done, off_t(offset + done))
                precondition(n > 0, "pwrite failed: errno \(errno)")
                done += n
            }
        }
    }

    /// `count` bytes at `offset`, zeros past the end of the file.
    public func read(at offset: Int, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
        precondition(n >= 0, "pread failed: errno \(errno)")
        return bytes
    }
}
