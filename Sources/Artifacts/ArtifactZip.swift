import Archives
import Foundation

/// The one zip member policy (build-image, inspect and flash): a zip artifact holds exactly one
/// image member, named `*.img` or `*.img.xz`, `.gz`, `.zst`, `.bz2` (in any folder), plus its
/// `.bmap` and `SHA256SUMS` when present. Other members are ignored. This is what the example CI
/// workflow uploads (`pi-image.zip`: pi.img.xz, pi.img.xz.bmap, SHA256SUMS).
///
/// The zip is read twice: `init` reads its small members and finds the image;
/// `openImage()` then streams the image member.
public struct ArtifactZip: Sendable {
    /// The zip file.
    public let path: String
    /// The image member's name in the zip (with its folders).
    public let image: String
    /// The image member's length, when the zip tells it.
    public let imageSize: UInt64?
    /// `.bmap` members and `SHA256SUMS`, by base name (each under 64 MiB).
    public let companions: [String: [UInt8]]

    /// Companions larger than this are not read into memory (a bmap is a few hundred KiB).
    static let companionLimit: Int64 = 64 << 20

    /// True for a name the policy takes as an image: `.img`, or `.img` plus a compression suffix.
    public static func isImageName(_ name: String) -> Bool {
        Compression.stripped(name.lowercased()).hasSuffix(".img")
    }

    /// Scans the zip at `path` for its image member and reads its companions.
    public init(path: String) throws {
        self.path = path
        var images: [(String, UInt64?)] = []
        var companions: [String: [UInt8]] = [:]
        do {
            let reader = try ArchiveReader(source: FileByteSource(path: path), zip: true)
            while let member = try reader.nextMember() {
                let base = Self.baseName(member.name)
                if base == "SHA256SUMS" || base.lowercased().hasSuffix(".bmap"), (member.size ?? 0) < Self.companionLimit {
                    var bytes: [UInt8] = []
                    try reader.readData { block, _ in bytes += block }
                    companions[base] = bytes
                } else {
                    if Self.isImageName(base) { images.append((member.name, member.size.map(UInt64.init))) }
                    try reader.skipData()
                }
            }
        } catch let error as ArchiveError {
            throw ArtifactError.unreadable(path, "not a zip that can be read (\(Self.reason(error, path: path)))")
        }
        guard let first = images.first else { throw ArtifactError.noImage(path) }
        guard images.count == 1 else { throw ArtifactError.severalImages(path, images.map(\.0)) }
        (image, imageSize) = first
        self.companions = companions
    }

    /// The image member's base name (`pi.img.xz`), as SHA256SUMS lists it.
    public var imageBaseName: String { Self.baseName(image) }

    /// `SHA256SUMS`, when the zip holds one.
    public var sha256Sums: [UInt8]? { companions["SHA256SUMS"] }

    /// The bmap members, the image's own names first (`pi.img.xz.bmap`, then `pi.img.bmap`, as
    /// bmaptool looks them up), then any other `.bmap` member.
    public var bmapNames: [String] {
        let own = Self.bmapNames(for: imageBaseName)
        let others = companions.keys.filter { $0.lowercased().hasSuffix(".bmap") && !own.contains($0) }.sorted()
        return own.filter { companions[$0] != nil } + others
    }

    /// `NAME.bmap`, then NAME without its compression suffix plus `.bmap`.
    public static func bmapNames(for name: String) -> [String] {
        let stripped = Compression.stripped(name)
        return stripped == name ? [name + ".bmap"] : [name + ".bmap", stripped + ".bmap"]
    }

    /// The image member's bytes as stored in it (`pi.img.xz` stays xz: sniff it with
    /// `Container`), decoded from the zip on a thread of their own.
    public func openImage() throws -> ByteSource {
        do {
            return try ZipMemberSource(path: path, member: image)
        } catch let error as ArchiveError {
            throw ArtifactError.unreadable(path, Self.reason(error, path: path))
        }
    }

    static func baseName(_ name: String) -> String { String(name.split(separator: "/").last ?? "") }

    /// libarchive's message, without the path when it is about this zip (ArtifactError names it).
    static func reason(_ error: ArchiveError, path: String) -> String { error.file == path ? error.reason : "\(error)" }
}

/// One zip member's bytes as a `ByteSource`: libarchive pushes the member's data from a thread
/// into a `BytePipe` that `read` drains, so memory stays bounded (16 MiB at most).
final class ZipMemberSource: ByteSource {
    let name: String
    private let pipe: BytePipe
    private let producer: Producer

    init(path: String, member: String) throws {
        name = "\(path):\(member)"
        let reader = try ArchiveReader(source: FileByteSource(path: path), zip: true)
        var found = false
        while let entry = try reader.nextMember() {
            if entry.name == member {
                found = true
                break
            }
            try reader.skipData()
        }
        guard found else { throw ArtifactError.unreadable(path, "the member \(member) is missing") }
        pipe = BytePipe(name: name, highWater: 8 << 20, lowWater: 2 << 20)
        producer = Producer(reader: reader, pipe: pipe)
        let producer = producer
        Thread { producer.run() }.start()
    }

    deinit {
        pipe.cancel()
        producer.done.wait()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try pipe.read(into: buffer) }

    /// Runs the member's decoding on its own thread, writing into the pipe.
    private final class Producer: @unchecked Sendable {
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
                _ = try reader.readData { bytes, _ in try pipe.write(bytes) }
                pipe.finish()
            } catch {
                pipe.finish(error: error)
            }
        }
    }
}
