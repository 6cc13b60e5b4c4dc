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
        do {
            try FileIO.forEachDataChunk(of: fd, size: size, buffer: buffer) { bytes, offset in
                hashZeros(upTo: Int64(offset))
                hash.update(bufferPointer: bytes)
                position += Int64(bytes.count)
            }
        } catch let failure as IOFailure {
            throw FileDigestError.unreadable(path, failure.errno)
        } catch is EndOfFile {
            throw FileDigestError.endsEarly(path)
        }
        hashZeros(upTo: size)
        return Hex.encode(hash.finalize())
    }
}

public enum FileDigestError: FileNamingError, Equatable {
    case unreadable(String, Errno)
    /// The file got shorter while it was read.
    case endsEarly(String)

    public var file: String {
        switch self {
        case .unreadable(let path, _), .endsEarly(let path): path
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let errno): "\(path): cannot read to checksum: \(errno)"
        case .endsEarly(let path): "\(path): cannot read to checksum: the file got shorter while it was read"
        }
    }
}
