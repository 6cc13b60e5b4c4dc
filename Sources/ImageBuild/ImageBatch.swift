import Progress
import Artifacts
import DiskFormats
import Ext4FS
import Archives
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Several images (one per lab config) from one base, which is read and decompressed once:
///
///     BASE ──extract once──► .FIRST.partial-PID.base (sparse)
///                              │ clone (pread + pwrite of its data extents)
///                              ├──► .a.img.partial ─► patch ─► bmap, checksum ─► a.img
///                              ├──► .b.img.partial ─► patch ─► …              ─► b.img
///                              …
///
/// Two images are in flight at once: while one is hashed and published (bmap, SHA256SUMS, on a
/// thread of its own) the next is cloned and patched. On two cores that hides the clone's
/// writeback behind the hashing:
///
///     main:    clone a, patch a │ clone b, patch b │ clone c, patch c │
///     publish:                  │ bmap, sums, a ✓   │ bmap, sums, b ✓   │ bmap, sums, c ✓
///
/// Images are published in request order (so SHA256SUMS is merged one image at a time); a
/// failure stops the batch, leaving the images finished so far and no temporary.
///
/// Each published image's writeback starts at once, and one image later its pages, written by
/// then, leave the page cache (`PageCache`): the next clones reuse them, so a batch holds about
/// two images in memory rather than all of them (8 x 1.3 GiB of a 2 GiB base would push out the
/// rest of the machine's cache; and on a VM that hands free memory back to its host, every fresh
/// page costs a fault there: 8 images took 55-72 s here instead of 25 s). Pages still dirty (a
/// disk slower than the batch) are simply kept.
public struct ImageBatch {
    let requests: [ImagePatcher.Request]
    let progress: ProgressReporter

    /// All requests must name the same base and different outputs.
    public init(_ requests: [ImagePatcher.Request], progress: ProgressReporter = SilentProgress()) {
        self.requests = requests
        self.progress = progress
    }

    /// The reports in request order; the first image's report also carries the shared `extract`
    /// phase.
    public func run() throws -> [ImagePatcher.Report] {
        guard let first = requests.first else { return [] }
        let outputs = requests.map { FileIdentity.resolvedPath($0.output) }
        if let repeated = outputs.enumerated().first(where: { outputs[..<$0.offset].contains($0.element) }) {
            throw ImagePatchError.duplicateOutput(repeated.element)
        }
        precondition(requests.allSatisfy { $0.base == first.base }, "an ImageBatch reads one base")
        if requests.count == 1 { return [try ImagePatcher(first, progress: progress).run()] }

        let lock = NSLock()
        let patchers = requests.map { request in
            ImagePatcher(request, progress: BatchImageProgress(progress, lock: lock,
                                                               label: URL(fileURLWithPath: request.output).lastPathComponent))
        }
        let files = try patchers.map { try $0.prepare() }
        let shared = files[0].image.temporary + ".base"
        defer {
            unlink(shared)
            for file in files { file.removeTemporaries() }
        }
        let timer = PhaseTimer(BatchImageProgress(progress, lock: lock, label: "(shared)"))
        let extraction = try patchers[0].extractBase(to: shared, timer: timer)
        timer.finish()

        var reports: [ImagePatcher.Report] = []
        var publishing: BackgroundWork<ImagePatcher.Report>?
        do {
            for (index, (patcher, file)) in zip(patchers, files).enumerated() {
                patcher.progress.phase("clone", total: nil)
                do { try ImageSource.clone(shared, to: file.raw) } catch { throw patcher.blameOutput(error) }
                let patched = try patcher.patchStage(file, extraction: extraction)
                if let previous = publishing { reports.append(try previous.wait()) }
                let before = index > 0 ? requests[index - 1].output : nil
                publishing = BackgroundWork(stackSize: 8 << 20) {
                    let report = try patcher.publish(file, patched)
                    PageCache.startWriteback(of: patcher.request.output)
                    if let before { PageCache.drop(before) }
                    return report
                }
            }
            if let last = publishing { reports.append(try last.wait()) }
        } catch {
            // The image being published finishes (or fails) before its temporaries are removed.
            _ = try? publishing?.wait()
            throw error
        }
        reports[0].phaseSeconds.insert(contentsOf: timer.seconds, at: 0)
        return reports
    }
}
