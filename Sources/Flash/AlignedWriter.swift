import CLinux
import Foundation
import SystemIO

/// Gathers the bytes bound for the target into one aligned buffer and writes it with a single
/// `pwrite` when it is full or the next bytes are not contiguous, so the device sees large
/// writes starting on block boundaries.
///
/// ```
/// buffer: [start ........ start+count)        capacity 1 MiB (stays in the CPU's cache), 4096-aligned
/// append(at: start+count) extends it; append elsewhere flushes first
/// ```
///
/// With a `writebackWindow` (block devices: an SD card writes at 20-90 MB/s), each write's
/// writeback starts at once (`sync_file_range` WRITE), and once more than the window is on its
/// way the writer waits for the oldest. The card then writes while the next bytes are read and
/// hashed, instead of all at once in the final `fsync` after the progress bar said 100%, and the
/// page cache never holds more than the window of the image (bmaptool fsyncs a block device
/// every few MiB for the same reasons):
///
/// ```
/// written:   [w0][w1][w2][w3][w4] ...          pwrite + start writeback
/// in flight:      └── <= writebackWindow ──┘    oldest waited for when over
/// ```
///
/// A regular file gets no window: the page cache takes it at memory speed and the final `fsync`
/// writes it out with the whole device queue at work.
final class AlignedWriter {
    /// The window `Flasher` gives block devices.
    static let deviceWritebackWindow = 64 << 20

    let fd: Int32
    let path: String
    private let buffer: UnsafeMutableRawBufferPointer
    private var start: UInt64 = 0
    private var count = 0
    /// Bytes handed to the target so far.
    private(set) var written: UInt64 = 0
    /// Written ranges whose writeback was started and not yet waited for, oldest first.
    private var inFlight: [(offset: UInt64, count: Int)] = []
    /// Bytes written whose writeback was started and not yet waited for.
    private(set) var inFlightBytes = 0
    /// Bytes whose writeback may be pending before `append` waits for the oldest; nil once the
    /// target refused `sync_file_range` (then only the final fsync syncs).
    private var window: Int?

    init(fd: Int32, path: String, capacity: Int = 1 << 20, writebackWindow: Int? = nil) {
        self.fd = fd
        self.path = path
        buffer = .allocate(byteCount: capacity, alignment: 4096)
        window = writebackWindow
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
        do {
            try FileIO.write(fd, UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: start)
        } catch {
            throw FlashError.io(path, "write at byte \(error.offset)", error.errno)
        }
        written += UInt64(count)
        if count > 0 { try startWriteback(start, count) }
        count = 0
    }

    /// Flushes and waits until the target holds everything.
    func sync() throws {
        try flush()
        guard fsync(fd) == 0 else { throw FlashError.errno(path, "fsync") }
        inFlight = []
        inFlightBytes = 0
    }

    /// Starts the writeback of a range just written; waits for the oldest ranges while more than
    /// the window is pending. A device error while waiting is thrown here, with the range it hit.
    private func startWriteback(_ offset: UInt64, _ count: Int) throws {
        guard let window else { return }
        guard sync_file_range(fd, off_t(offset), off_t(count), CLINUX_SYNC_FILE_RANGE_WRITE) == 0 else {
            if errno == EIO || errno == ENOSPC { throw FlashError.errno(path, "write at byte \(offset)") }
            self.window = nil  // not supported here (ESPIPE, EINVAL): the final fsync does it all
            return
        }
        inFlight.append((offset, count))
        inFlightBytes += count
        while inFlightBytes > window {
            let oldest = inFlight.removeFirst()
            inFlightBytes -= oldest.count
            let flags = CLINUX_SYNC_FILE_RANGE_WAIT_BEFORE | CLINUX_SYNC_FILE_RANGE_WRITE | CLINUX_SYNC_FILE_RANGE_WAIT_AFTER
            guard sync_file_range(fd, off_t(oldest.offset), off_t(oldest.count), flags) == 0 else {
                throw FlashError.errno(path, "write at byte \(oldest.offset)")
            }
        }
    }
}
