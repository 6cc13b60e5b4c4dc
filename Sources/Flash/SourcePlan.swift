import Digests
import Archives
import Artifacts
import DiskFormats
import Foundation

/// SOURCE resolved: where the image bytes come from, the bmap and SHA256SUMS found with it.
///
/// Companions are looked up as bmaptool does: `SOURCE.bmap`, then the name without its
/// compression suffix plus `.bmap` (`pi.img.xz` -> `pi.img.xz.bmap`, `pi.img.bmap`), and
/// `SHA256SUMS` in the same directory or URL path. A zip (GitHub's upload-artifact) is read
/// twice: first its small members (bmap, SHA256SUMS), then the image member streamed.
public final class SourcePlan {
    enum Input {
        case stream(HashingSource, Container)
        case zip(ArtifactZip)
    }

    /// The SOURCE argument.
    public let source: Location
    /// The file SHA256SUMS names (`pi.img.xz`, or the zip member).
    public let imageName: String
    public let bmap: Bmap?
    /// Where the bmap came from, for messages.
    public let bmapName: String?
    public let checksums: Checksums?
    /// The sha256 SHA256SUMS gives for the image file; nil when it lists none, or when what
    /// streams is not that file's bytes (a `.gz` the server sent with `Content-Encoding: gzip`
    /// arrives decompressed).
    public let imageDigest: String?
    /// True when SHA256SUMS lists the bmap, its bytes match, and it carries a sha256 for every
    /// range: every byte flash writes is then checked against SHA256SUMS through the bmap, and
    /// hashing the whole file as well would check nothing more that lands on the card.
    public let bmapVouchesForImage: Bool
    /// The image size when known before streaming (bmap, raw file length, zip entry).
    public let imageSize: UInt64?
    /// What was found, checked or missing, for the user.
    public let notes: [String]
    /// The local files SOURCE stands for and beside it, whether they exist or not: SOURCE,
    /// every bmap name looked up, SHA256SUMS. TARGET may be none of them.
    public let localFiles: [String]
    let input: Input
    private let spooled: String?

    /// Resolves SOURCE; `bmapOverride` is --bmap. Downloads nothing but the small files
    /// (and a zip, which is spooled to a temporary file because its index sits at its end);
    /// each download fails after `timeout` seconds without a byte. `zipSHA256` pins a zip
    /// SOURCE (a GitHub artifact's API digest): another sha256 fails before anything is written.
    public init(source: Location, bmapOverride: Location?, timeout: Int = HTTPByteSource.defaultTimeout,
                credentials: Credentials = Credentials(), zipSHA256: String? = nil) throws {
        self.source = source
        let opened = HashingSource(try source.open(timeout: timeout, credentials: credentials))
        let header = try opened.peek(Container.headerLength)
        let container = Container(header: header)
        // A server that encodes although identity was asked for: URLSession decoded the reply.
        // Over a `.gz` that was the file's own compression, so what streams is the image inside.
        var notes: [String] = []
        var decodedFileItself = false
        if let encoding = (opened.inner as? Download)?.decodedEncoding {
            if Compression.forPath(source.basename) == .gzip, !header.starts(with: [0x1f, 0x8b]) {
                decodedFileItself = true
                notes.append("\(source): the server sent it with Content-Encoding: \(encoding), so what arrives is the image inside it, decompressed in transit: the file's own sha256 cannot be checked")
            } else {
                notes.append("\(source): the server sent it with Content-Encoding: \(encoding) although identity was asked for: decoded in transit, in one request")
            }
        }
        var sumsBytes: [UInt8]?
        var sizeHint: UInt64?
        var spooled: String?
        // A spooled zip is removed by deinit once the plan exists; before that, by this.
        var planned = false
        defer { if !planned, let spooled { try? FileManager.default.removeItem(atPath: spooled) } }
        var localFiles: [String] = []
        if case .file(let path) = source { localFiles.append(path) }
        if case .file(let path)? = bmapOverride { localFiles.append(path) }
        /// (name for messages, name in SHA256SUMS, reader)
        var bmapCandidates: [(String, String, () throws -> [UInt8]?)] = []
        if let bmapOverride {
            bmapCandidates.append((bmapOverride.description, bmapOverride.basename, { try bmapOverride.fetch(timeout: timeout, credentials: credentials) }))
        }

        if container == .zip {
            let path: String
            switch source {
            case .file(let file): path = file
            case .url:
                path = try Self.spool(opened)
                spooled = path
            }
            if let zipSHA256 {
                let digest: String
                switch source {
                case .file(let file): digest = try FileDigest.sha256(ofFile: file)
                case .url: digest = opened.digest.hex()
                }
                guard digest == zipSHA256.lowercased() else {
                    throw DownloadError.checksum(source.description, expected: zipSHA256.lowercased(), actual: digest)
                }
                notes.append("\(source): sha256 \(digest), as the artifact's digest says")
            }
            let zip = try ArtifactZip(path: path)
            imageName = zip.image
            input = .zip(zip)
            sizeHint = Compression.forPath(zip.image) == .none ? zip.imageSize : nil
            sumsBytes = zip.sha256Sums
            for name in zip.bmapNames {
                bmapCandidates.append(("\(source):\(name)", name, { zip.companions[name] }))
            }
            notes.append("\(source): zip artifact, image member \(zip.image)")
        } else {
            if zipSHA256 != nil { throw FlashError.zip(source.description, "a sha256 for a zip artifact was given, but this is not a zip") }
            imageName = source.basename
            input = .stream(opened, container)
            if container == .raw {
                switch source {
                case .file(let path): sizeHint = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? nil
                case .url: sizeHint = (opened.inner as? Download)?.total.map(UInt64.init)
                }
            }
            sumsBytes = try source.sibling("SHA256SUMS").fetch(timeout: timeout, credentials: credentials)
            if case .file(let path) = source.sibling("SHA256SUMS") { localFiles.append(path) }
            for name in Self.bmapNames(for: source.basename) {
                let location = source.sibling(name)
                if case .file(let path) = location { localFiles.append(path) }
                bmapCandidates.append((location.description, name, { try location.fetch(timeout: timeout, credentials: credentials) }))
            }
        }

        let sums = sumsBytes.map { Checksums(parsing: $0) }
        checksums = sums
        if sums == nil { notes.append("no SHA256SUMS beside \(source): the download is not checked against one") }

        var found: (String, String, [UInt8])?
        var bmapListed = false
        for (index, (name, basename, fetch)) in bmapCandidates.enumerated() {
            if let bytes = try fetch() {
                found = (name, basename, bytes)
                break
            }
            if index == 0, bmapOverride != nil { throw FlashError.bmap(name, "no such bmap") }
        }
        if let (name, basename, bytes) = found {
            if try sums?.check(basename, bytes: bytes) == true {
                notes.append("\(basename): matches SHA256SUMS")
                bmapListed = true
            }
            do {
                bmap = try Bmap.parse(bytes)
            } catch {
                throw FlashError.bmap(name, "\(error)")
            }
            bmapName = name
            sizeHint = bmap?.imageSize
        } else {
            bmap = nil
            bmapName = nil
            notes.append("no bmap found for \(source): every block of the image is written, zero or not")
        }
        let checkedName = imageName
        if let sums, sums.digest(for: checkedName) == nil {
            notes.append("SHA256SUMS does not list \(checkedName): the image is not checked against it")
        }
        imageDigest = decodedFileItself ? nil : sums?.digest(for: checkedName)
        bmapVouchesForImage = bmapListed && bmap.map { bmap in
            bmap.checksumType == .sha256 && bmap.ranges.allSatisfy { $0.checksum != nil }
        } == true
        imageSize = sizeHint
        self.notes = notes
        self.localFiles = localFiles
        self.spooled = spooled
        planned = true
    }

    deinit {
        if let spooled { try? FileManager.default.removeItem(atPath: spooled) }
    }

    /// `NAME.bmap`, then NAME without its compression suffix plus `.bmap`.
    static func bmapNames(for name: String) -> [String] { ArtifactZip.bmapNames(for: name) }

    /// Streams a downloaded zip into a temporary file (never whole in memory).
    private static func spool(_ source: HashingSource) throws -> String {
        let path = NSTemporaryDirectory() + "/fpga-lab-flash-\(getpid())-\(UUID().uuidString.prefix(8)).zip"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FlashError.errno(path, "create") }
        defer { close(fd) }
        let writer = AlignedWriter(fd: fd, path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        do {
            while true {
                let count = try source.read(into: buffer)
                if count == 0 { break }
                try writer.append(UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: offset)
                offset += UInt64(count)
            }
            try writer.flush()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return path
    }
}
