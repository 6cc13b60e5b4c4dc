import DiskFormats
import SystemIO
import Digests
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// sha256 of outputs and the `SHA256SUMS` file beside them (coreutils format:
/// `<64 hex>  <file name>`, one line per file, sorted by name).
public enum Checksums {
    /// sha256 of a whole file (``FileDigest/sha256(ofFile:)``, which skips reading holes).
    public static func sha256(ofFile path: String) throws -> String { try FileDigest.sha256(ofFile: path) }

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
        guard fd >= 0 else { throw ChecksumError.write(path, .current) }
        do {
            try FileIO.write(fd, bytes)
        } catch {
            close(fd)
            throw ChecksumError.write(path, error.errno)
        }
        guard close(fd) == 0 else { throw ChecksumError.write(path, .current) }
    }
}

public enum ChecksumError: Error, CustomStringConvertible {
    /// Writing a file failed with this errno.
    case write(String, Errno)

    public var description: String {
        switch self {
        case .write(let path, let errno): "\(path): cannot write: \(errno)"
        }
    }
}
