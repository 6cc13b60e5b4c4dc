import Artifacts
import Archives
import DiskFormats
import Foundation
import Progress

/// `fpga-lab flash`: stream SOURCE onto TARGET, writing only the mapped ranges, then read
/// them back.
///
/// ```
/// SOURCE ─► SourcePlan (bmap, SHA256SUMS) ─► ImageStream ─► RangeCopier ─► AlignedWriter ─► TARGET
///                                              │ sha256 of the file      │ sha256 per range
///                                              ▼                         ▼
///                                         SHA256SUMS check          Readback (O_DIRECT)
/// ```
public struct Flasher {
    public struct Options: Sendable {
        public var source: String
        public var target: String
        public var bmap: String?
        public var verify = true
        public var force = false
        public var system = SystemView()
        /// Seconds without a byte received before a download is abandoned.
        public var timeout = HTTPByteSource.defaultTimeout
        /// What downloads authenticate with (`--header`, ~/.netrc, GITHUB_TOKEN).
        public var credentials = Credentials()
        /// The sha256 a zip SOURCE must have (a GitHub artifact's digest).
        public var zipSHA256: String?

        public init(source: String, target: String, bmap: String? = nil) {
            self.source = source
            self.target = target
            self.bmap = bmap
        }
    }

    /// What a flash did, in bytes and seconds.
    public struct Report: Sendable {
        public var imageSize: UInt64
        /// Bytes the bmap maps (the whole image without one).
        public var mappedBytes: UInt64
        /// False when there was no bmap and every block was written.
        public var usedBmap: Bool
        public var bytesWritten: UInt64
        public var ranges: Int
        public var writeSeconds: Double
        /// nil with --no-verify.
        public var verifiedBytes: UInt64?
        public var verifySeconds: Double
        public var checkedAgainstSums: Bool
        /// The check went through the bmap SHA256SUMS lists (every written range's sha256) rather
        /// than a hash of the whole file.
        public var checkedThroughBmap: Bool
    }

    /// A resolved flash, checked for safety, ready to run (or to describe for --dry-run).
    public struct Plan {
        public let source: SourcePlan
        public let target: Target

        /// Human lines saying what would be written where.
        public var description: [String] {
            var lines = source.notes
            switch target {
            case .device(let device): lines.append("target: \(device.summary)")
            case .file(let path, let size):
                lines.append("target: regular file \(path)" + (size.map { " (\($0) bytes)" } ?? " (new)"))
            }
            if let bmap = source.bmap, let name = source.bmapName {
                lines.append("bmap \(name) (format \(bmap.version)): \(bmap.ranges.count) ranges, \(bmap.mappedBlocksCount * bmap.blockSize) of \(bmap.imageSize) bytes mapped")
            }
            if let size = source.imageSize { lines.append("image: \(source.imageName), \(size) bytes") }
            return lines
        }
    }

    public let options: Options
    public let progress: ProgressReporter

    public init(options: Options, progress: ProgressReporter = SilentProgress()) {
        self.options = options
        self.progress = progress
    }

    /// Resolves SOURCE and its companions and checks TARGET; writes nothing.
    public func plan() throws -> Plan {
        let source = try SourcePlan(source: Location(options.source), bmapOverride: options.bmap.map { Location($0) },
                                    timeout: options.timeout, credentials: options.credentials, zipSHA256: options.zipSHA256)
        // Before anything is opened for writing: `flash pi.img.xz pi.img.xz` (or the bmap, or
        // SHA256SUMS, by any path) would destroy what it reads.
        if let same = source.localFiles.first(where: { FileIdentity.same(options.target, $0) }) {
            throw FlashError.refused("\(options.target): is \(same == source.localFiles.first ? "the source image" : "a file read with the source (\(same))"); name another target")
        }
        let target = try Target.inspect(options.target, system: options.system)
        // A loop device over SOURCE (or a companion) writes that file, whatever its path.
        if case .device(let device) = target,
           let backing = options.system.read("\(options.system.sysfsRoot)/class/block/\(device.name)/loop/backing_file"),
           let same = source.localFiles.first(where: { FileIdentity.same(backing, $0) }) {
            throw FlashError.refused("\(options.target): is a loop device over \(same), which this flash reads; name another target")
        }
        if case .device(let device) = target {
            try SafetyCheck.check(device, imageSize: source.imageSize, force: options.force, system: options.system)
        }
        return Plan(source: source, target: target)
    }

    /// Writes and verifies.
    public func run(_ plan: Plan) throws -> Report {
        let fd = try openTarget(plan)
        defer { close(fd) }
        let window: Int? = if case .device = plan.target { AlignedWriter.deviceWritebackWindow } else { nil }
        let writer = AlignedWriter(fd: fd, path: plan.target.path, writebackWindow: window)
        let copier = RangeCopier(writer: writer, bmap: plan.source.bmap)
        let started = Date()
        progress.phase("writing", total: plan.source.imageSize)
        let sink: ImageStream.Sink = { bytes, offset in
            try copier.consume(bytes, at: offset)
            progress.advance(to: copier.position)
        }
        // With a bmap SHA256SUMS vouches for, the ranges' sha256 check every byte written: the
        // file's own hash (2 GiB of SHA-256 for a 2 GiB image, holes included) would add nothing.
        let expected = plan.source.imageDigest
        let throughBmap = expected != nil && plan.source.bmapVouchesForImage
        let outcome: ImageStream.Outcome
        switch plan.source.input {
        case .stream(let source, let container):
            outcome = try ImageStream.stream(source, container: container, hashFile: !throughBmap, into: sink)
        case .zip(let zip):
            outcome = try ImageStream.stream(zip: zip, hashFile: !throughBmap, into: sink)
        }
        try copier.finish()
        progress.finish()
        let writeSeconds = Date().timeIntervalSince(started)
        guard outcome.imageLength > 0 else { throw FlashError.empty(plan.source.imageName) }
        if let bmap = plan.source.bmap, outcome.imageLength != bmap.imageSize {
            throw FlashError.bmap(plan.source.bmapName ?? "bmap", "describes an image of \(bmap.imageSize) bytes, the image has \(outcome.imageLength)")
        }
        if case .file = plan.target {
            try grow(fd, to: outcome.imageLength, path: plan.target.path)
        }
        var checked = throughBmap
        if let expected, let actual = outcome.fileDigest {
            guard expected == actual else {
                throw FlashError.fileChecksum(plan.source.imageName, expected: expected, actual: actual)
            }
            checked = true
        }

        let blockSize = plan.source.bmap?.blockSize ?? 4096
        let mapped = copier.ranges.reduce(UInt64(0)) { total, range in
            total + min((range.last + 1) * blockSize, outcome.imageLength) - range.first * blockSize
        }
        var verified: UInt64?
        let verifyStart = Date()
        if options.verify {
            progress.phase("verifying", total: mapped)
            verified = try Readback.verify(target: plan.target.path, ranges: copier.ranges, blockSize: blockSize,
                                           imageSize: outcome.imageLength) { progress.advance(to: $0) }
            progress.finish()
        }
        return Report(imageSize: outcome.imageLength, mappedBytes: mapped, usedBmap: plan.source.bmap != nil,
                      bytesWritten: copier.bytesWritten,
                      ranges: copier.ranges.count, writeSeconds: writeSeconds, verifiedBytes: verified,
                      verifySeconds: Date().timeIntervalSince(verifyStart), checkedAgainstSums: checked,
                      checkedThroughBmap: throughBmap)
    }

    /// A device is opened O_EXCL (the kernel refuses it while mounted); a file is created or
    /// grown to the image size.
    private func openTarget(_ plan: Plan) throws -> Int32 {
        let path = plan.target.path
        switch plan.target {
        case .device:
            let fd = open(path, O_WRONLY | O_EXCL | O_CLOEXEC)
            guard fd >= 0 else { throw FlashError.errno(path, "open exclusively for writing") }
            return fd
        case .file:
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FlashError.errno(path, "open for writing") }
            if let size = plan.source.imageSize { try grow(fd, to: size, path: path) }
            return fd
        }
    }

    private func grow(_ fd: Int32, to size: UInt64, path: String) throws {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw FlashError.errno(path, "stat") }
        if UInt64(status.st_size) < size, ftruncate(fd, off_t(size)) != 0 { throw FlashError.errno(path, "grow") }
    }
}
