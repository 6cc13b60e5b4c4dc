import Digests
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// sha256 of outputs and the `SHA256SUMS` file beside them (coreutils format:
/// `<64 hex>  <file name>`, one line per file, sorted by name).
public enum Checksums {
    /// sha256 of a whole file. Holes of a sparse file are hashed from a zero buffer instead of
    /// being read (`DataExtents`), which matters for a 2 GiB image that is mostly holes.
    public static func sha256(ofFile path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ChecksumError.unreadable(path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ChecksumError.unreadable(path) }
        let size = Int64(info.st_size)
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        var hash = SHA256()
        var position: Int64 = 0
        func hashZeros(upTo end: Int64) {
            while position < end {
                let count = Int(min(Int64(chunk), end - position))
                hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: zeros[..<count]))
                position += Int64(count)
            }
        }
        for extent in DataExtents(fd: fd, size: size) {
            hashZeros(upTo: extent.lowerBound)
            while position < extent.upperBound {
                let want = Int(min(Int64(chunk), extent.upperBound - position))
                let got = pread(fd, buffer.baseAddress, want, off_t(position))
                guard got > 0 else { throw ChecksumError.unreadable(path) }
                hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<got]))
                position += Int64(got)
            }
        }
        hashZeros(upTo: size)
        return Hex.encode(hash.finalize())
    }

    /// Starts `sha256(ofFile:)` on its own thread and returns a function that waits for the
    /// digest. build-image hashes the whole image this way while the bmap hashes its mapped
    /// ranges on the calling thread: two SHA-256 passes over the same page-cached bytes, on two
    /// cores at once instead of one after the other.
    public static func sha256InBackground(ofFile path: String) -> () throws -> String {
        let work = BackgroundWork(stackSize: 1 << 20) { try sha256(ofFile: path) }
        return { try work.wait() }
    }

    /// Writes to `destination` the lines of `existing` (if any) for other files, plus one line
    /// per output (by base name), in `SHA256Sums`' format (names escaped as sha256sum does).
    public static func writeSums(_ outputs: [(path: String, sha256: String)], merging existing: String,
                                 to destination: String) throws {
        var sums = FileManager.default.contents(atPath: existing).map { SHA256Sums(parsing: [UInt8]($0)) } ?? SHA256Sums()
        for (path, sum) in outputs {
            sums.digests[URL(fileURLWithPath: path).lastPathComponent] = sum
        }
        try writeFile(destination, sums.encoded())
    }

    /// Creates or truncates `path` and writes `bytes` to it; a failed write names its errno.
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ChecksumError.write(path, errno) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                throw ChecksumError.write(path, code)
            }
            done += n
        }
        guard close(fd) == 0 else { throw ChecksumError.write(path, errno) }
    }
}

public enum ChecksumError: Error, CustomStringConvertible {
    case unreadable(String)
    /// Writing a file failed with this errno.
    case write(String, Int32)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path): cannot read to checksum"
        case .write(let path, let code): "\(path): cannot write: \(String(cString: strerror(code)))"
        }
    }
}
