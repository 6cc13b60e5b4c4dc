import Archives
import Artifacts
import Foundation

/// The bytes of a raw image, streamed out of whatever holds it, with the SHA-256 of the file
/// SHA256SUMS lists (the artifact as downloaded: `pi.img.xz`, or the image member of a zip).
///
/// ```
/// raw .img ───────────────────────────────────────────────► chunks
/// .xz/.gz/.zst/.bz2 ──► libarchive filter ────────────────► chunks
/// .zip ──► ArtifactZip image member (thread, BytePipe) ──► sniffed again ──► chunks
/// ```
enum ImageStream {
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
        case .xz, .gzip, .zstd, .bzip2:
            length = try decompress(source, into: sink)
        case .zip:
            throw ArtifactError.nestedZip(source.name)
        }
        guard hashFile else { return Outcome(imageLength: length, fileDigest: nil) }
        try source.drain()
        return Outcome(imageLength: length, fileDigest: source.digest.hex())
    }

    /// Streams the image member of a zip artifact, decompressing it when its bytes are a
    /// compressed stream; the digest is the member's own (as SHA256SUMS lists it).
    static func stream(zip: ArtifactZip, hashFile: Bool = true, into sink: Sink) throws -> Outcome {
        let source = HashingSource(try zip.openImage())
        let container = Container(header: try source.peek(Container.headerLength))
        return try stream(source, container: container, hashFile: hashFile, into: sink)
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
