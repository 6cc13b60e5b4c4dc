import Foundation
import SystemIO

/// Reads every written range back from the target, bypassing the page cache, and compares
/// its sha256 with the digest taken while streaming. The hashing runs on a thread of its own
/// (`BackgroundDigest`, one segment per range) while the next bytes are read.
///
/// A block device is read with `O_DIRECT` (aligned buffer, aligned lengths); a regular file
/// (or a device refusing O_DIRECT) is fsynced and its cached pages dropped with
/// `posix_fadvise(POSIX_FADV_DONTNEED)` first, so the bytes come from the medium.
enum Readback {
    /// `O_DIRECT`, which Glibc's module leaves out (it needs _GNU_SOURCE); the value is
    /// per architecture in <asm/fcntl.h>.
    #if arch(arm64) || arch(arm)
    static let directIO: Int32 = 0o200000
    #else
    static let directIO: Int32 = 0o40000
    #endif

    /// Returns the bytes verified; throws `FlashError.readback` on the first mismatch.
    static func verify(target: String, ranges: [WrittenRange], blockSize: UInt64, imageSize: UInt64,
                       progress: (UInt64) -> Void = { _ in }) throws -> UInt64 {
        var fd = open(target, O_RDONLY | O_CLOEXEC | Self.directIO)
        if fd < 0 {
            fd = open(target, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FlashError.errno(target, "open for read-back") }
        }
        defer { close(fd) }
        _ = fsync(fd)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var verified: UInt64 = 0
        let digests = BackgroundDigest()
        var checked = 0
        /// Compares the ranges hashed so far (all of them at the end) with what was written.
        func compare(_ done: [String]) throws {
            for actual in done {
                let range = ranges[checked]
                guard actual == range.sha256 else {
                    throw FlashError.readback(target: target, first: range.first, last: range.last)
                }
                checked += 1
            }
        }
        for range in ranges {
            let start = range.first * blockSize
            let end = min((range.last + 1) * blockSize, imageSize)
            var at = start
            while at < end {
                let want = min(UInt64(buffer.count), end - at)
                let aligned = (want + 4095) / 4096 * 4096
                let got = try readFully(fd, buffer, count: Int(aligned), at: at, target: target)
                guard UInt64(got) >= want else {
                    throw FlashError.io(target, "read back byte \(at + UInt64(got))", Errno(EIO))
                }
                digests.update(UnsafeRawBufferPointer(rebasing: buffer[..<Int(want)]))
                at += want
                verified += want
                progress(verified)
            }
            digests.cut()
            try compare(digests.segments(from: checked))
        }
        try compare(digests.allSegments(from: checked))
        return verified
    }

    /// Reads up to `count` bytes at `offset`, stopping early only at the end of the target.
    private static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, count: Int,
                                  at offset: UInt64, target: String) throws -> Int {
        do {
            return try FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<count]), at: offset)
        } catch {
            throw FlashError.io(target, "read back byte \(error.offset)", error.errno)
        }
    }
}
