import Digests
import Glibc

/// A block map in bmaptool's model: which blocks of an image hold data, with a
/// checksum per run of blocks, so that flashing copies (and verifies) only those.
public struct Bmap: Equatable, Sendable {
    /// An inclusive run of mapped blocks and its checksum (hex digest of the bytes
    /// of blocks `first...last`, the last block cut at the end of the image).
    public struct Range: Equatable, Sendable {
        public var first: UInt64
        public var last: UInt64
        public var checksum: String?

        public init(first: UInt64, last: UInt64, checksum: String?) {
            self.first = first
            self.last = last
            self.checksum = checksum
        }

        /// Number of blocks in the run.
        public var count: UInt64 { last - first + 1 }
    }

    /// Digest used for range and file checksums (`sha1` only in format 1.3 files).
    public enum ChecksumType: String, Sendable {
        case sha256, sha1

        /// Length of the hex digest.
        public var hexLength: Int { self == .sha256 ? 64 : 40 }
    }

    /// Format version: written files are "2.0"; parsed files keep theirs.
    public var version: String
    public var imageSize: UInt64
    public var blockSize: UInt64
    /// nil for format 1.0-1.2 files, which carry no checksums.
    public var checksumType: ChecksumType?
    public var ranges: [Range]

    public init(version: String = "2.0", imageSize: UInt64, blockSize: UInt64 = 4096,
                checksumType: ChecksumType? = .sha256, ranges: [Range]) {
        self.version = version
        self.imageSize = imageSize
        self.blockSize = blockSize
        self.checksumType = checksumType
        self.ranges = ranges
    }

    /// Blocks in the image, the last one possibly partial.
    public var blocksCount: UInt64 { (imageSize + blockSize - 1) / blockSize }

    /// Blocks listed in the map.
    public var mappedBlocksCount: UInt64 { ranges.reduce(0) { $0 + $1.count } }

    /// Builds the map of `imagePath` for the given byte ranges: each is widened to
    /// whole blocks, clipped to the image, merged with its neighbours, and hashed
    /// (SHA-256) by reading the image file.
    public static func make(imagePath: String, ranges: [(offset: UInt64, length: UInt64)],
                            blockSize: UInt64 = 4096) throws -> Bmap {
        let fd = open(imagePath, O_RDONLY)
        guard fd >= 0 else { throw BmapError.io(path: imagePath, errno: errno) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw BmapError.io(path: imagePath, errno: errno) }
        let imageSize = UInt64(status.st_size)
        let blocks = blockRuns(ranges, blockSize: blockSize, imageSize: imageSize)
        var mapped: [Range] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for (first, last) in blocks {
            var hash = SHA256()
            var position = first * blockSize
            let end = min((last + 1) * blockSize, imageSize)
            while position < end {
                let want = Int(min(UInt64(buffer.count), end - position))
                let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
                guard got > 0 else { throw BmapError.io(path: imagePath, errno: got < 0 ? errno : EIO) }
                buffer.withUnsafeBytes { hash.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0.prefix(got))) }
                position += UInt64(got)
            }
            mapped.append(Range(first: first, last: last, checksum: Hex.encode(hash.finalize())))
        }
        return Bmap(imageSize: imageSize, blockSize: blockSize, ranges: mapped)
    }

    /// Byte ranges as sorted, merged, inclusive block runs inside the image.
    static func blockRuns(_ ranges: [(offset: UInt64, length: UInt64)], blockSize: UInt64,
                          imageSize: UInt64) -> [(first: UInt64, last: UInt64)] {
        var runs: [(first: UInt64, last: UInt64)] = []
        for range in ranges.sorted(by: { $0.offset < $1.offset }) {
            let end = min(range.offset + range.length, imageSize)
            guard range.length > 0, range.offset < end else { continue }
            let first = range.offset / blockSize
            let last = (end + blockSize - 1) / blockSize - 1
            if let previous = runs.last, first <= previous.last + 1 {
                runs[runs.count - 1].last = max(previous.last, last)
            } else {
                runs.append((first, last))
            }
        }
        return runs
    }
}

/// Errors reading, writing or parsing block maps.
public enum BmapError: Error, Equatable, CustomStringConvertible {
    case io(path: String, errno: Int32)
    case malformed(String)
    case unsupportedVersion(String)
    case fileChecksumMismatch(expected: String, actual: String)

    public var description: String {
        switch self {
        case .io(let path, let code): "bmap: cannot read '\(path)': \(String(cString: strerror(code)))"
        case .malformed(let what): "bmap: malformed file: \(what)"
        case .unsupportedVersion(let version): "bmap: format version \(version) is not supported (1.x and 2.x are)"
        case .fileChecksumMismatch(let expected, let actual):
            "bmap: file checksum mismatch: the file says \(expected), its content hashes to \(actual)"
        }
    }
}
