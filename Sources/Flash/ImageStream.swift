import Archives
import Foundation

/// The bytes of a raw image, streamed out of whatever holds it, with the SHA-256 of the file
/// SHA256SUMS lists (the artifact as downloaded: `pi.img.xz`, or the image member of a zip).
///
/// ```
/// raw .img ───────────────────────────────────────────────► chunks
/// .xz/.gz/.zst/.bz2 ──► libarchive filter ────────────────► chunks
/// .zip ──► member pi.img ─────────────────────────────────► chunks
/// .zip ──► member pi.img.xz ──► BytePipe ──► filter (thread) ► chunks
/// ```
enum ImageStream {
    enum Container: Equatable {
        case raw, compressed, zip

        /// Told by magic numbers, never by name.
        init(header: [UInt8]) {
            let magics: [(Container, [UInt8])] = [
                (.zip, [0x50, 0x4b, 0x03, 0x04]),
                (.compressed, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),  // xz
                (.compressed, [0x1f, 0x8b]),                          // gzip
                (.compressed, [0x28, 0xb5, 0x2f, 0xfd]),              // zstd
                (.compressed, [0x42, 0x5a, 0x68]),                    // bzip2
            ]
            self = magics.first { header.starts(with: $0.1) }?.0 ?? .raw
        }
    }

    /// What the stream produced: the image length and the digest of the checked file (nil when
    /// the stream was told not to hash it).
    struct Outcome {
        var imageLength: UInt64
        var fileDigest: String?
    }

    typealias Sink = (UnsafeRawBufferPointer, UInt64) throws -> Void

    /// Streams an already opened raw or compressed file; `hashFile` false skips its digest.
    static func stream(_ source: HashingSource, container: Container, hashFile: Bool = true,
                       into sink: Sink) throws -> Outcome {
        source.hashing = hashFile
        let length: UInt64
        switch container {
        case .raw:
            length = try copyRaw(source, into: sink)
        case .compressed:
            length = try decompress(source, into: sink)
        case .zip:
            throw FlashError.zip(source.name, "a zip must be read from a file")
        }
        guard hashFile else { return Outcome(imageLength: length, fileDigest: nil) }
        try source.drain()
        return Outcome(imageLength: length, fileDigest: source.digest.hex())
    }

    /// Streams the member `member` of the zip at `path`, decompressing it when it is compressed.
    static func stream(zip path: String, member: String, hashFile: Bool = true, into sink: Sink) throws -> Outcome {
        let reader = try ArchiveReader(source: FileByteSource(path: path), zip: true)
        while let entry = try reader.nextMember() {
            guard entry.name == member else {
                try reader.skipData()
                continue
            }
            if Compression.forPath(member) == .none {
                var digest = StreamDigest()
                let length = try reader.readData { bytes, offset in
                    if hashFile { digest.update(bytes) }
                    try sink(bytes, UInt64(offset))
                }
                return Outcome(imageLength: UInt64(length), fileDigest: hashFile ? digest.hex() : nil)
            }
            return try streamCompressedMember(reader, name: "\(path):\(member)", hashFile: hashFile, into: sink)
        }
        throw FlashError.zip(path, "the member \(member) is missing")
    }

    /// Decodes the zip member on a thread into a pipe that the decompressor reads here.
    private static func streamCompressedMember(_ reader: ArchiveReader, name: String, hashFile: Bool,
                                               into sink: Sink) throws -> Outcome {
        let pipe = BytePipe(name: name, highWater: 8 << 20, lowWater: 2 << 20)
        let producer = MemberProducer(reader: reader, pipe: pipe)
        let thread = Thread { producer.run() }
        thread.start()
        defer {
            pipe.cancel()
            producer.done.wait()
        }
        let source = HashingSource(pipe)
        source.hashing = hashFile
        let length = try decompress(source, into: sink)
        guard hashFile else { return Outcome(imageLength: length, fileDigest: nil) }
        try source.drain()
        return Outcome(imageLength: length, fileDigest: source.digest.hex())
    }

    private static func copyRaw(_ source: ByteSource, into sink: Sink) throws -> UInt64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while true {
            var filled = 0
            while filled < buffer.count {
                let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                if count == 0 { break }
                filled += count
            }
            if filled == 0 { return offset }
            try sink(UnsafeRawBufferPointer(rebasing: buffer[..<filled]), offset)
            offset += UInt64(filled)
        }
    }

    private static func decompress(_ source: ByteSource, into sink: Sink) throws -> UInt64 {
        let reader = try ArchiveReader(source: source, zip: false, blockSize: 1 << 20)
        guard try reader.nextMember() != nil else { return 0 }
        return UInt64(try reader.readData { bytes, offset in try sink(bytes, UInt64(offset)) })
    }
}

/// Runs a zip member's decoding on its own thread, writing into a pipe.
private final class MemberProducer: @unchecked Sendable {
    let reader: ArchiveReader
    let pipe: BytePipe
    let done = DispatchSemaphore(value: 0)

    init(reader: ArchiveReader, pipe: BytePipe) {
        self.reader = reader
        self.pipe = pipe
    }

    func run() {
        defer { done.signal() }
        do {
            try reader.readData { bytes, _ in try pipe.write(bytes) }
            pipe.finish()
        } catch {
            pipe.finish(error: error)
        }
    }
}
