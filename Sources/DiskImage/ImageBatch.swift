import Archives
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Several images (one per lab config) from one base, which is read and decompressed once:
///
///     BASE ──extract once──► .FIRST.partial-PID.base (sparse)
///                              │ clone (copy_file_range of its data extents)
///                              ├──► .a.img.partial ─► patch, bmap, checksum ─► a.img
///                              ├──► .b.img.partial ─► …                     ─► b.img
///                              …
///
/// Each image is completed (renamed into place with its .bmap and SHA256SUMS line) before the
/// next starts; a failure stops the batch, leaving the images finished so far and no temporary.
public struct ImageBatch {
    let requests: [ImagePatcher.Request]
    let progress: BuildProgress

    /// All requests must name the same base and different outputs.
    public init(_ requests: [ImagePatcher.Request], progress: BuildProgress = SilentProgress()) {
        self.requests = requests
        self.progress = progress
    }

    /// The reports in request order; the first image's report also carries the shared `extract`
    /// phase.
    public func run() throws -> [ImagePatcher.Report] {
        guard let first = requests.first else { return [] }
        let outputs = requests.map { URL(fileURLWithPath: $0.output).standardizedFileURL.path }
        if let repeated = outputs.enumerated().first(where: { outputs[..<$0.offset].contains($0.element) }) {
            throw ImagePatchError.duplicateOutput(repeated.element)
        }
        precondition(requests.allSatisfy { $0.base == first.base }, "an ImageBatch reads one base")
        if requests.count == 1 { return [try ImagePatcher(first, progress: progress).run()] }

        let patchers = requests.map { ImagePatcher($0, progress: progress) }
        let files = try patchers.map { try $0.prepare() }
        let shared = files[0].image.temporary + ".base"
        defer {
            unlink(shared)
            for file in files { file.removeTemporaries() }
        }
        let timer = PhaseTimer(progress)
        let imageSize = try patchers[0].extractBase(to: shared, timer: timer)
        timer.finish()
        var reports: [ImagePatcher.Report] = []
        for (patcher, file) in zip(patchers, files) {
            patcher.progress.phase("clone", total: nil)
            do { try ImageSource.clone(shared, to: file.raw) } catch { throw patcher.blameOutput(error) }
            var report = try patcher.complete(file, imageSize: imageSize)
            if reports.isEmpty { report.phaseSeconds.insert(contentsOf: timer.seconds, at: 0) }
            reports.append(report)
        }
        return reports
    }
}
