#if canImport(Glibc)
import Glibc
#endif

/// A read or write that failed: the errno and the byte the call was at (the file offset for
/// positional I/O, the count done so far for streams).
public struct IOFailure: Error, Equatable, Sendable {
    public var errno: Errno
    public var offset: UInt64
}

/// A file that ended before the bytes its size or its extents promised (it shrank while read).
public struct EndOfFile: Error, Equatable, Sendable {
    public var offset: UInt64
}

/// read/write-all on a descriptor, the one place that retries `EINTR`. Callers wrap an
/// ``IOFailure`` into their own typed error with the path.
public enum FileIO {
    /// Reads into `buffer` at `offset` (pread; sequential read when `offset` is nil) until it is
    /// full or the file ends; returns how many bytes it holds (fewer only at the end of the file).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                            at offset: UInt64? = nil) throws(IOFailure) -> Int {
        try transfer(buffer.count, at: offset, zeroMeans: nil) { done, position in
            let target = buffer.baseAddress! + done
            return if let position { pread(fd, target, buffer.count - done, position) } else { Glibc.read(fd, target, buffer.count - done) }
        }
    }

    /// Writes all of `bytes` at `offset` (pwrite; sequential write when `offset` is nil). A write
    /// that takes nothing is the device being full: ENOSPC.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64? = nil) throws(IOFailure) {
        _ = try transfer(bytes.count, at: offset, zeroMeans: .noSpace) { done, position in
            let source = bytes.baseAddress! + done
            return if let position { pwrite(fd, source, bytes.count - done, position) } else { Glibc.write(fd, source, bytes.count - done) }
        }
    }

    /// ``write(_:_:at:)`` for an array.
    public static func write(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64? = nil) throws(IOFailure) {
        do {
            try bytes.withUnsafeBytes { raw in try write(fd, raw, at: offset) }
        } catch let failure as IOFailure {
            throw failure
        } catch {
            fatalError("FileIO.write threw \(error)")  // the closure throws IOFailure only
        }
    }

    /// One `read` that returns what is there (at least one byte, or 0 at the end); for pipes and
    /// sockets where waiting for a full buffer would stall.
    public static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw IOFailure(errno: .current, offset: 0) }
        }
    }

    /// Reads the data extents of `fd` (holes skipped, ``DataExtents``) in chunks of at most
    /// `buffer.count` bytes; `body` gets each chunk and its file offset, in order. Returns the
    /// extents it walked. Throws ``IOFailure`` for a failed read, ``EndOfFile`` when the file
    /// ends inside an extent.
    @discardableResult
    public static func forEachDataChunk(of fd: Int32, size: Int64, buffer: UnsafeMutableRawBufferPointer,
                                        _ body: (UnsafeRawBufferPointer, UInt64) throws -> Void) throws -> [Range<Int64>] {
        var extents: [Range<Int64>] = []
        for extent in DataExtents(fd: fd, size: size) {
            extents.append(extent)
            var position = UInt64(extent.lowerBound)
            while position < UInt64(extent.upperBound) {
                let want = Int(min(UInt64(buffer.count), UInt64(extent.upperBound) - position))
                let got = try read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: position)
                guard got > 0 else { throw EndOfFile(offset: position) }
                try body(UnsafeRawBufferPointer(rebasing: buffer[..<got]), position)
                position += UInt64(got)
            }
        }
        return extents
    }

    /// The loop of read/write-all: `call(done, position)` moves bytes from `done` on and returns
    /// the system call's result; EINTR retries, a result of 0 ends early (`zeroMeans` nil: the end
    /// of the file) or fails with `zeroMeans`.
    private static func transfer(_ count: Int, at offset: UInt64?, zeroMeans: Errno?,
                                 _ call: (Int, off_t?) -> Int) throws(IOFailure) -> Int {
        var done = 0
        while done < count {
            let n = call(done, offset.map { off_t($0) + off_t(done) })
            if n < 0 {
                if errno == EINTR { continue }
                throw IOFailure(errno: .current, offset: (offset ?? 0) + UInt64(done))
            }
            if n == 0 {
                guard let zeroMeans else { break }
                throw IOFailure(errno: zeroMeans, offset: (offset ?? 0) + UInt64(done))
            }
            done += n
        }
        return done
    }
}
