import Digests
import DiskFormats
import SystemIO
import Archives
#if canImport(Glibc)
import Glibc
#endif

/// A base image as the user gives it: a raw `.img`, compressed (`.xz`, `.gz`, `.zst`, `.bz2`)
/// or a `.zip` holding one image. The kind is told by the file's first bytes, not its name.
public enum ImageSource {
    /// True when `header` (the file's first bytes) starts a compressed stream or a zip.
    public static func isCompressed(header: [UInt8]) -> Bool { Container(header: header) != .raw }

    /// What `extract` wrote: the image size, and which bytes of the image the base holds as data.
    public struct Extraction: Sendable {
        public var size: UInt64
        /// The image's byte ranges that are data in the base, zero or not: the data extents of a
        /// raw base (SEEK_DATA/SEEK_HOLE), the whole image for a compressed one (a stream has no
        /// holes). The extracted copy itself is sparser (zero blocks become holes), so regions no
        /// file system describes are mapped from these, never by scanning for zeros: a zeroed
        /// FAT sector or GPT entry must still reach a card full of old data.
        public var sourceData: [ByteRange]
        /// The sha256 of the base as downloaded (a URL), or as read when it was pinned.
        public var sha256: String?
    }

    /// Writes the raw image held by `base` into `destination` (created, sparse: runs of zero
    /// blocks are left as holes), streaming; `progress` gets the bytes of input consumed so far.
    /// `base` is only ever opened read-only. An `.xz` base is decoded on every core
    /// (XZStreamReader), the other compressed kinds through libarchive.
    @discardableResult
    public static func extract(base: String, to destination: String,
                               progress: @escaping (UInt64) -> Void = { _ in }) throws -> Extraction {
        let source = PeekingSource(try FileByteSource(path: base)) { _, consumed in progress(consumed) }
        let header = try source.peek(Container.headerLength)
        return try extract(source, header: header, named: base, file: base, to: destination, progress: progress)
    }

    /// Writes the raw image held by `location` (a path, or an http(s) URL downloaded as it is
    /// decoded; a zip URL is saved beside `destination` first, since a zip's index sits at its
    /// end) into `destination`. `sha256`, when given, pins the base: a different digest fails
    /// after the extraction, before anything is published. The extraction carries the download's
    /// digest.
    public static func extract(location: Location, sha256 pin: String?, to destination: String,
                               timeout: Int = HTTPByteSource.defaultTimeout, credentials: Credentials = Credentials(),
                               progress: @escaping (UInt64) -> Void = { _ in }) throws -> Extraction {
        guard case .url(let url) = location else {
            var extraction = try extract(base: location.description, to: destination, progress: progress)
            if let pin {
                let digest = try FileDigest.sha256(ofFile: location.description)
                guard digest == pin.lowercased() else {
                    throw DownloadError.checksum(location.description, expected: pin.lowercased(), actual: digest)
                }
                extraction.sha256 = digest
            }
            return extraction
        }
        let download = try Download(url: url, timeout: timeout, credentials: credentials)
        let source = PeekingSource(download) { _, consumed in progress(consumed) }
        var extraction: Extraction
        let header = try source.peek(Container.headerLength)
        if Container(header: header) == .zip {
            let spool = destination + ".zip"
            defer { unlink(spool) }
            try save(source, to: spool)
            extraction = try extract(base: spool, to: destination)
        } else {
            extraction = try extract(source, header: header, named: url.absoluteString, file: nil, to: destination, progress: progress)
        }
        // Made with hashing on, so finish() has a digest.
        guard let digest = try download.finish() else { preconditionFailure("Download made with hashing has a digest") }
        if let pin, digest != pin.lowercased() {
            throw DownloadError.checksum(url.absoluteString, expected: pin.lowercased(), actual: digest)
        }
        extraction.sha256 = digest
        return extraction
    }

    /// Copies a stream into a new file at `path`.
    private static func save(_ source: ByteSource, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageSourceError.write(path, .current) }
        defer { close(fd) }
        var writer = SparseWriter(fd: fd, path: path, keepsZeros: true)
        let size = try source.forEachChunk(bufferSize: 1 << 20) { bytes, offset in try writer.write(bytes, at: offset) }
        writer.extend(to: size)
        try writer.finish()
    }

    /// Extracts from `source`, whose first bytes `header` were peeked (peek once: a second peek
    /// reads further); `file` is the path when the base is a local file (a raw regular file is
    /// copied by its data extents, a zip read twice).
    private static func extract(_ source: PeekingSource, header: [UInt8], named base: String, file: String?,
                                to destination: String, progress: (UInt64) -> Void) throws -> Extraction {
        let out = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard out >= 0 else { throw ImageSourceError.write(destination, .current) }
        defer { close(out) }
        var writer = SparseWriter(fd: out, path: destination)
        var rawExtents: [ByteRange]?
        switch Container(header: header) {
        case .raw where file.map(isRegularFile) == true:
            rawExtents = try copyRaw(base: base, to: &writer, progress: progress)
        case .zip:
            guard let file else { throw ArtifactError.nestedZip(base) }
            // The one zip member policy (Artifacts): one image member, streamed out of the zip
            // and sniffed again (pi.img.xz inside pi-image.zip is decoded as it streams).
            let zip = try ArtifactZip(path: file)
            let member = PeekingSource(try zip.openImage())
            let memberHeader = try member.peek(Container.headerLength)
            let container = Container(header: memberHeader)
            guard container != .zip else { throw ArtifactError.nestedZip(member.name) }
            try decode(member, container: container, name: base, to: &writer)
        case let container:
            // A compressed file, or a raw pipe, FIFO or device: no holes to ask about, no second
            // open (a pipe's bytes are gone once read), so the bytes already peeked are streamed
            // with the rest.
            try decode(source, container: container, name: base, to: &writer)
        }
        try writer.finish()
        guard writer.size > 0 else { throw ImageSourceError.empty(base) }
        return Extraction(size: writer.size, sourceData: rawExtents ?? [ByteRange(offset: 0, length: writer.size)], sha256: nil)
    }

    /// Writes the image a stream holds (raw, or compressed as `container` says) into `writer`.
    /// An `.xz` stream is decoded on every core (XZStreamReader), the other kinds through
    /// libarchive. Failures name `name` (the base).
    private static func decode(_ source: PeekingSource, container: Container, name: String,
                               to writer: inout SparseWriter) throws {
        switch container {
        case .raw:
            do {
                let size = try source.forEachChunk(bufferSize: 1 << 20) { bytes, offset in
                    try writer.write(bytes, at: offset)
                }
                writer.extend(to: size)
            } catch let error as ArchiveError {
                throw error.errno.map { ImageSourceError.read(name, $0) } ?? ImageSourceError.corrupt(name, error.reason)
            }
        case .xz:
            do {
                let size = try XZStreamReader(source: source).forEachChunk { bytes, offset in
                    try writer.write(bytes, at: offset)
                }
                writer.extend(to: size)
            } catch let error as ArchiveError {
                throw ImageSourceError.corrupt(name, error.reason)
            }
        case .gzip, .zstd, .bzip2:
            do {
                let reader = try ArchiveReader(source: source, zip: false)
                guard try reader.nextMember() != nil else { throw ImageSourceError.empty(name) }
                try reader.readData { bytes, offset in try writer.write(bytes, at: UInt64(offset)) }
            } catch let error as ArchiveError {
                throw ImageSourceError.corrupt(name, error.reason)
            }
        case .zip:
            throw ArtifactError.nestedZip(name)
        }
    }

    /// True for a regular file (after symlinks), the only kind whose holes can be asked for.
    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// Copies the data extents of a raw base (its holes are skipped with SEEK_DATA/SEEK_HOLE,
    /// zero blocks inside data are not written), like `cp --sparse=always`. Returns the extents.
    private static func copyRaw(base: String, to writer: inout SparseWriter, progress: (UInt64) -> Void) throws -> [ByteRange] {
        let fd = open(base, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageSourceError.read(base, .current) }
        defer { close(fd) }
        return try copyDataExtents(of: fd, named: base, to: &writer, progress: progress)
    }

    /// Copies an already sparse raw image (an `extract` result) to `destination`: only its data
    /// extents, as they are. Returns the size.
    @discardableResult
    public static func clone(_ source: String, to destination: String) throws -> UInt64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ImageSourceError.read(source, .current) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw ImageSourceError.write(destination, .current) }
        defer { close(output) }
        var writer = SparseWriter(fd: output, path: destination, keepsZeros: true)
        try copyDataExtents(of: input, named: source, to: &writer)
        try writer.finish()
        return writer.size
    }

    /// The data extents of `fd` (SEEK_DATA/SEEK_HOLE) into `writer` at the same offsets, then
    /// the file's size as the writer's. Through a 1 MiB buffer that stays in the CPU's cache
    /// between the read and the write: `copy_file_range`, without reflinks, copies through a
    /// pipe's pages, three to five times slower here.
    @discardableResult
    private static func copyDataExtents(of fd: Int32, named name: String, to writer: inout SparseWriter,
                                        progress: (UInt64) -> Void = { _ in }) throws -> [ByteRange] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImageSourceError.read(name, .current) }
        let size = Int64(info.st_size)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        let extents: [Range<Int64>]
        do {
            extents = try FileIO.forEachDataChunk(of: fd, size: size, buffer: buffer) { chunk, offset in
                try writer.write(chunk, at: offset)
                progress(offset + UInt64(chunk.count))
            }
        } catch let failure as IOFailure {
            throw ImageSourceError.read(name, failure.errno)
        } catch is EndOfFile {
            throw ImageSourceError.endsEarly(name)
        }
        writer.extend(to: UInt64(size))
        return extents.map { ByteRange(offset: UInt64($0.lowerBound), length: UInt64($0.count)) }
    }
}

/// Writes blocks at offsets, leaving all-zero 4 KiB blocks as holes (unless `keepsZeros`: a
/// clone keeps its source's extents as they are); sets the final size.
struct SparseWriter {
    let fd: Int32
    let path: String
    let keepsZeros: Bool
    private(set) var size: UInt64 = 0

    init(fd: Int32, path: String, keepsZeros: Bool = false) {
        self.fd = fd
        self.path = path
        self.keepsZeros = keepsZeros
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if keepsZeros {
            try pwriteAll(bytes, at: offset)
            size = max(size, offset + UInt64(bytes.count))
            return
        }
        let block = 4096
        var start = 0
        while start < bytes.count {
            let end = min(start + block, bytes.count)
            if !Self.isZero(bytes, start..<end) {
                var runEnd = end
                while runEnd < bytes.count {
                    if Self.isZero(bytes, runEnd..<min(runEnd + block, bytes.count)) { break }
                    runEnd = min(runEnd + block, bytes.count)
                }
                try pwriteAll(UnsafeRawBufferPointer(rebasing: bytes[start..<runEnd]), at: offset + UInt64(start))
                start = runEnd
            } else {
                start = end
            }
        }
        size = max(size, offset + UInt64(bytes.count))
    }

    /// Makes the image at least `length` bytes long (a trailing hole).
    mutating func extend(to length: UInt64) { size = max(size, length) }

    /// True when every byte in `range` is zero; reads 8 bytes at a time where it can.
    static func isZero(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        var index = range.lowerBound
        let base = bytes.baseAddress!
        while index + 8 <= range.upperBound {
            if base.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
            index += 8
        }
        while index < range.upperBound {
            if bytes[index] != 0 { return false }
            index += 1
        }
        return true
    }

    func finish() throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw ImageSourceError.write(path, .current) }
    }

    private func pwriteAll(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        do {
            try FileIO.write(fd, bytes, at: offset)
        } catch {
            throw ImageSourceError.write(path, error.errno)
        }
    }
}

public enum ImageSourceError: FileNamingError, Equatable {
    case write(String, Errno)
    case read(String, Errno)
    /// The file is shorter than its own size said while it was copied.
    case endsEarly(String)
    case empty(String)
    case corrupt(String, String)

    public var description: String {
        switch self {
        case let .write(path, errno): "\(path): cannot write: \(errno)"
        case let .read(path, errno): "\(path): cannot read: \(errno)"
        case let .endsEarly(path): "\(path): cannot read: ends early"
        case let .empty(path): "\(path): holds no image data"
        case let .corrupt(path, reason): "\(path): the compressed image is truncated or corrupt (\(reason.replacingOccurrences(of: path + ": ", with: "")))"
        }
    }
}

extension ImageSourceError {
    public var file: String {
        switch self {
        case .write(let path, _), .read(let path, _), .endsEarly(let path), .empty(let path), .corrupt(let path, _): path
        }
    }
}
