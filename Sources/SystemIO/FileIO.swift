#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read or write that failed: the errno and the byte the call was at (the file offset for
/// positional I/O, the count done so far for streams).
public struct IOFailure: Error, Equatable, Sendable {
    public var errno: Errno
    public var offset: UInt64

    public init(errno: Errno, offset: UInt64) {
        self.errno = errno
        self.offset = offset
    }
}

/// read/write-all on a descriptor, the one place that retries `EINTR`. Callers wrap an
/// ``IOFailure`` into their own typed error with the path.
public enum FileIO {
    /// Reads into `buffer` at `offset` (pread; sequential read when `offset` is nil) until it is
    /// full or the file ends; returns how many bytes it holds (fewer only at the end of the file).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                            at offset: UInt64? = nil) throws(IOFailure) -> Int {
        var done = 0
        while done < buffer.count {
            let target = buffer.baseAddress! + done
            let n = if let offset { pread(fd, target, buffer.count - done, off_t(offset) + off_t(done)) }
                    else { Glibc.read(fd, target, buffer.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOFailure(errno: .current, offset: (offset ?? 0) + UInt64(done))
            }
            if n == 0 { break }
            done += n
        }
        return done
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

    /// Writes all of `bytes` at `offset` (pwrite; sequential write when `offset` is nil). A write
    /// that takes nothing is the device being full: ENOSPC.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64? = nil) throws(IOFailure) {
        var done = 0
        while done < bytes.count {
            let source = bytes.baseAddress! + done
            let n = if let offset { pwrite(fd, source, bytes.count - done, off_t(offset) + off_t(done)) }
                    else { Glibc.write(fd, source, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOFailure(errno: .current, offset: (offset ?? 0) + UInt64(done))
            }
            if n == 0 { throw IOFailure(errno: .noSpace, offset: (offset ?? 0) + UInt64(done)) }
            done += n
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
}
