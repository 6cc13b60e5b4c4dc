#if canImport(Glibc)
import Glibc
#endif
import SystemIO

/// Digests of whole files.
public enum FileDigest {
    /// sha256 of a whole file. Holes of a sparse file are hashed from a zero buffer instead of
    /// being read (`DataExtents`), which matters for a 2 GiB image that is mostly holes.
    public static func sha256(ofFile path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileDigestError.unreadable(path, .current) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileDigestError.unreadable(path, .current) }
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
                let got: Int
                do {
                    got = try FileIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: UInt64(position))
                } catch let failure as IOFailure {
                    throw FileDigestError.unreadable(path, failure.errno)
                }
                guard got > 0 else { throw FileDigestError.endsEarly(path) }
                hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<got]))
                position += Int64(got)
            }
        }
        hashZeros(upTo: size)
        return Hex.encode(hash.finalize())
    }
}

public enum FileDigestError: Error, Equatable, CustomStringConvertible {
    case unreadable(String, Errno)
    /// The file got shorter while it was read.
    case endsEarly(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let errno): "\(path): cannot read to checksum: \(errno)"
        case .endsEarly(let path): "\(path): cannot read to checksum: the file got shorter while it was read"
        }
    }
}
