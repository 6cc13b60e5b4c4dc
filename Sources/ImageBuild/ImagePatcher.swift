import Progress
import ImageInspect
import BootFiles
import DiskFormats
import Ext4FS
import Archives
import Artifacts
import Foundation
import LabConfig
import Overlay

/// `fpga-lab build-image`: a stock Raspberry Pi OS image patched with a lab's overlay, without
/// root, loop devices or mounts.
///
///     BASE (.img/.xz/.gz/.zst/.bz2/.zip, read-only)
///       │ ImageSource.extract (streaming, sparse)
///       ▼
///     .OUT.partial ─► MBR/GPT ─► bootfs (FAT, pure Swift): config.txt, cmdline.txt, ssh, userconf.txt
///                          └──► rootfs (ext4, libext2fs): overlay files, /etc/hosts
///       │ Bmap from the filesystems' allocation, compression by OUT's suffix
///       ▼
///     OUT, OUT.bmap, SHA256SUMS (renamed into place only when all are complete)
public struct ImagePatcher {
    public struct Request {
        /// A path or an http(s) URL (`Location`).
        public var base: String
        /// The base's sha256 it must have (`--base-sha256`), lower- or upper-case hex.
        public var baseSHA256: String?
        /// Seconds without a byte before a download of the base is abandoned.
        public var timeout = HTTPByteSource.defaultTimeout
        /// What a download of the base authenticates with (`--header`, ~/.netrc, GITHUB_TOKEN).
        public var credentials = Credentials()
        public var output: String
        public var lab: LabFile
        public var store: TemplateStore
        /// Where usbip-binder builds live: `DIR/<x86_64|aarch64|armv6>/usbip-binder`.
        public var binderDirectory: String?
        /// An explicit usbip-binder executable (overrides `binderDirectory`).
        public var binderExecutable: String?
        /// Every timestamp written (SOURCE_DATE_EPOCH).
        public var epoch: Int64

        public init(base: String, output: String, lab: LabFile, store: TemplateStore,
                    binderDirectory: String? = nil, binderExecutable: String? = nil, epoch: Int64) {
            self.base = base
            self.output = output
            self.lab = lab
            self.store = store
            self.binderDirectory = binderDirectory
            self.binderExecutable = binderExecutable
            self.epoch = epoch
        }
    }

    public struct Report: Sendable {
        public var imageSize: UInt64
        public var mappedBytes: UInt64
        public var arch: ELFArch
        public var bootKind: FATKind
        public var partitions: [Partition]
        public var overlayEntries: Int
        public var warnings: [String]
        /// How the patched image boots the first time (as found in the base).
        public var firstBoot: FirstBoot
        /// The base's sha256 when it was downloaded (or pinned).
        public var baseSHA256: String?
        /// Every file written, with its sha256, in the order of SHA256SUMS.
        public var outputs: [(path: String, sha256: String)]
        /// Wall time of each phase, in order.
        public var phaseSeconds: [(phase: String, seconds: Double)]
    }

    let request: Request
    let progress: PhaseTimer

    public init(_ request: Request, progress: ProgressReporter = SilentProgress()) {
        self.request = request
        self.progress = PhaseTimer(progress)
    }

    public func run() throws -> Report {
        let files = try prepare()
        defer { files.removeTemporaries() }
        let extraction = try extractBase(to: files.raw, timer: progress)
        return try complete(files, extraction: extraction)
    }

    /// The `extract` phase: writes the raw image held by the base into `destination` (sparse),
    /// reporting the bytes of base read to `timer`. A failure ends the phase and is blamed on the
    /// base (`badBase`).
    func extractBase(to destination: String, timer: PhaseTimer) throws -> ImageSource.Extraction {
        timer.phase("extract", total: Self.size(of: request.base))
        do {
            // The cores are free while this runs (compressing OUT comes after), so an .xz base is
            // decoded on all of them; the decoder's buffers are gone before the encoder's start.
            return try ImageSource.extract(location: Location(request.base), sha256: request.baseSHA256, to: destination,
                                           timeout: request.timeout, credentials: request.credentials) { timer.advance(to: $0) }
        } catch {
            timer.finish()
            throw blame(error)
        }
    }

    /// The temporaries of one output (image, bmap, SHA256SUMS) beside their destinations.
    struct OutputFiles {
        let image: AtomicOutput
        let bmap: AtomicOutput
        let sums: AtomicOutput
        /// The raw image being patched: the image's temporary itself, or beside it when OUT is
        /// compressed.
        let raw: String

        func removeTemporaries() {
            for path in [raw, image.temporary, bmap.temporary, sums.temporary] { unlink(path) }
        }
    }

    /// Checks the request and clears what killed runs left beside its outputs. BASE is refused
    /// as any of the three outputs by identity (device and inode, or the resolved path), so a
    /// symlinked directory or a hard link cannot make build-image replace it.
    func prepare() throws -> OutputFiles {
        let output = request.output
        var info = stat()
        let remote = if case .url = Location(request.base) { true } else { false }
        guard remote || (stat(request.base, &info) == 0 && access(request.base, R_OK) == 0) else {
            throw ImagePatchError.baseUnreadable(request.base)
        }
        if !remote, info.st_mode & S_IFMT == S_IFDIR { throw ImagePatchError.baseIsDirectory(request.base) }
        let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        let sumsPath = URL(fileURLWithPath: directory).appendingPathComponent("SHA256SUMS").path
        for path in [output, output + ".bmap", sumsPath] where !remote && FileIdentity.same(request.base, path) {
            throw ImagePatchError.outputIsBase(path)
        }
        let image = AtomicOutput(destination: output)
        try image.createDirectory()
        let files = OutputFiles(image: image, bmap: AtomicOutput(destination: output + ".bmap"),
                                sums: AtomicOutput(destination: sumsPath),
                                raw: Compression.forPath(output) == .none ? image.temporary : image.temporary + ".raw")
        for stale in [files.image, files.bmap, files.sums] { stale.removeStale() }
        return files
    }

    /// Patches `files.raw` (the extracted base), writes the bmap, compresses, checksums and
    /// moves the three outputs into place.
    func complete(_ files: OutputFiles, extraction: ImageSource.Extraction) throws -> Report {
        try publish(files, patchStage(files, extraction: extraction))
    }

    /// A patched raw image, ready to publish: what the patch did, and the extraction's facts.
    struct Patched {
        let patch: PatchResult
        let imageSize: UInt64
        /// The base's sha256, when it was downloaded or pinned.
        let baseSHA256: String?
    }

    /// The `patch` phase of `complete`: the overlay into `files.raw`.
    func patchStage(_ files: OutputFiles, extraction: ImageSource.Extraction) throws -> Patched {
        let patch: PatchResult
        do {
            progress.phase("patch", total: nil)
            patch = try self.patch(files.raw, sourceData: extraction.sourceData)
        } catch {
            progress.finish()
            throw blame(error)
        }
        progress.endPhase()
        return Patched(patch: patch, imageSize: extraction.size, baseSHA256: extraction.sha256)
    }

    /// The rest of `complete`: bmap, compression, checksums, the three renames; the report
    /// built whole from the patch, the extraction and the bmap.
    func publish(_ files: OutputFiles, _ patched: Patched) throws -> Report {
        let patch = patched.patch
        let imageSize = patched.imageSize
        let output = request.output
        let compression = Compression.forPath(output)
        let outputs: [(String, String)]
        let mappedBytes: UInt64
        do {
            progress.phase("bmap", total: nil)
            let rawSum = compression == .none ? Checksums.sha256InBackground(ofFile: files.raw) : nil
            let bmap = try Bmap.make(imagePath: files.raw, ranges: patch.mappedRanges.map { ($0.offset, $0.length) })
            mappedBytes = bmap.mappedBlocksCount * bmap.blockSize

            if compression != .none {
                progress.phase("compress", total: imageSize)
                try compress(files.raw, to: files.image.temporary, compression: compression, size: imageSize)
            }
            progress.phase("checksum", total: nil)
            let bmapBytes = bmap.xml()
            try Checksums.writeFile(files.bmap.temporary, bmapBytes)
            let imageSum = try rawSum?() ?? Checksums.sha256(ofFile: files.image.temporary)
            outputs = [(output, imageSum), (output + ".bmap", Manifest.sha256Hex(bmapBytes))]
            try Checksums.writeSums(outputs, merging: files.sums.destination, to: files.sums.temporary)

            // Three renames, back to back, SHA256SUMS last: a kill between them leaves the old
            // SHA256SUMS beside a new file, which `sha256sum -c` and `fpga-lab flash` refuse.
            try files.bmap.publish()
            try files.image.publish()
            try files.sums.publish()
        } catch {
            progress.finish()
            throw blameOutput(error)
        }
        progress.finish()
        return Report(imageSize: imageSize, mappedBytes: mappedBytes, arch: patch.arch,
                      bootKind: patch.bootKind, partitions: patch.partitions,
                      overlayEntries: patch.overlayEntries, warnings: patch.warnings, firstBoot: patch.firstBoot,
                      baseSHA256: patched.baseSHA256, outputs: outputs, phaseSeconds: progress.seconds)
    }

    static func size(of path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? nil
    }

    private func compress(_ raw: String, to path: String, compression: Compression, size: UInt64) throws {
        let source = try FileByteSource(path: raw)
        let writer = try CompressedFileWriter(path: path, compression: compression, size: Int64(size))
        try source.forEachChunk(bufferSize: 1 << 20) { bytes, offset in
            try writer.write(bytes)
            progress.advance(to: offset + UInt64(bytes.count))
        }
        try writer.finish()
    }
}

public enum ImagePatchError: Error, Equatable, CustomStringConvertible {
    case baseUnreadable(String)
    case outputIsBase(String)
    case baseIsDirectory(String)
    case overlayPath(String, String)
    /// The base (first) is unusable; the message names it once.
    case badBase(String, String)
    case duplicateOutput(String)
    /// OUT (or a file beside it) could not be written.
    case output(String, String)

    public var description: String {
        switch self {
        case .baseUnreadable(let path): "\(path): cannot read the base image (missing or not readable)"
        case .outputIsBase(let path): "\(path): the output would overwrite the base image"
        case .baseIsDirectory(let path): "\(path): the base image is a directory; give the image file (.img, .img.xz, .zip, ...)"
        case .overlayPath(let path, let reason): "cannot write \(path) into the image: \(reason)"
        case .badBase(_, let message): message
        case .duplicateOutput(let path): "\(path): two lab configs would write the same output"
        case .output(let path, let reason): "\(path): cannot write the output: \(reason)"
        }
    }
}
