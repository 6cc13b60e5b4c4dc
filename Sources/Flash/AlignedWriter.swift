import Foundation

/// Gathers the bytes bound for the target into one aligned buffer and writes it with a single
/// `pwrite` when it is full or the next bytes are not contiguous, so the device sees large
/// writes starting on block boundaries.
///
/// ```
/// buffer: [start ........ start+count)        capacity 8 MiB, 4096-aligned memory
/// append(at: start+count) extends it; append elsewhere flushes first
/// ```
final class AlignedWriter {
    let fd: Int32
    let path: String
    private let buffer: UnsafeMutableRawBufferPointer
    private var start: UInt64 = 0
    private var count = 0
    /// Bytes handed to the target so far.
    private(set) var written: UInt64 = 0

    init(fd: Int32, path: String, capacity: Int = 8 << 20) {
        self.fd = fd
        self.path = path
        buffer = .allocate(byteCount: capacity, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if count > 0, offset != start + UInt64(count) { try flush() }
        var done = 0
        while done < bytes.count {
            if count == 0 { start = offset + UInt64(done) }
            let take = min(buffer.count - count, bytes.count - done)
            UnsafeMutableRawBufferPointer(rebasing: buffer[count..<count + take])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[done..<done + take]))
            count += take
            done += take
            if count == buffer.count { try flush() }
        }
    }

    func flush() throws {
        var done = 0
        while done < count {
            let n = pwrite(fd, buffer.baseAddress! + done, count - done, off_t(start) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FlashError.errno(path, "write at byte \(start + UInt64(done))")
            }
            if n == 0 { throw FlashError.io(path, "write at byte \(start + UInt64(done))", ENOSPC) }
            done += n
        }
        written += UInt64(count)
        count = 0
    }

    /// Flushes and waits until the target holds everything.
    func sync() throws {
        try flush()
        guard fsync(fd) == 0 else { throw FlashError.errno(path, "fsync") }
    }
}
