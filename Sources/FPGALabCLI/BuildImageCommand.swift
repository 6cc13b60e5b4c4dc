import ArgumentParser
import Artifacts
import DiskFormats
import ImageBuild
import Foundation
import Overlay
import Progress

/// `fpga-lab build-image`: patch a stock Raspberry Pi OS image with a lab's overlay.
struct BuildImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-image",
        abstract: "Patch a Raspberry Pi OS image with the lab's overlay; write it with a .bmap and SHA256SUMS.",
        discussion: """
        BASE may be .img, .img.xz, .img.gz, .img.zst, .img.bz2 or a .zip holding one image (told by \
        its first bytes, not its name), as a path or an http(s) URL; it is streamed, never \
        modified. A URL is decoded as it downloads (a zip URL is saved to a temporary first), a \
        cut download resumed where it stopped, and its sha256 printed; --base-sha256 pins it. OUT is a sparse .img, or compressed by its suffix (.xz, .gz, .zst, \
        .bz2). OUT.bmap (of the raw image) and SHA256SUMS are written beside OUT. Nothing needs root, \
        a loop device or a mount. With SOURCE_DATE_EPOCH set, the same inputs give the same bytes.
        """
    )

    @Option(name: .long, help: ArgumentHelp("The lab config. Repeat --config/--output pairs to make several images from one base, which is then read and decompressed once.", valueName: "lab.yaml"))
    var config: [String]

    @Option(name: .long, help: ArgumentHelp("The stock image to start from: a path, an http(s) URL or gh:OWNER/REPO[#RUN_ID|@ARTIFACT_ID] (see flash).", valueName: "image"))
    var base: String

    @Option(name: .long, help: ArgumentHelp("The sha256 BASE must have; anything else fails before an output is written.", valueName: "hex"))
    var baseSha256: String?

    @OptionGroup var download: DownloadOptions

    @Option(name: .long, help: ArgumentHelp("The image to write (.img, .img.xz, ...), one per --config; missing parent directories are created.", valueName: "out.img"))
    var output: [String]

    @OptionGroup var binder: BinderOptions

    @OptionGroup var builds: BinderBuildsOptions

    @OptionGroup var templates: TemplateOptions

    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    func validate() throws {
        if let baseSha256, baseSha256.count != 64 || !baseSha256.allSatisfy(\.isHexDigit) {
            throw ValidationError("--base-sha256 \(baseSha256): expected 64 hex digits.")
        }
        guard !config.isEmpty else { throw ValidationError("Missing expected argument '--config <lab.yaml>'") }
        guard !output.isEmpty else { throw ValidationError("Missing expected argument '--output <out.img>'") }
        guard config.count == output.count else {
            throw ValidationError("\(config.count) --config but \(output.count) --output: give one --output per --config, in the same order.")
        }
        for output in output {
            guard output.hasSuffix(".img") || [".img.xz", ".img.gz", ".img.zst", ".img.bz2"].contains(where: output.hasSuffix) else {
                throw ValidationError("--output \(output): the name must end in .img, .img.xz, .img.gz, .img.zst or .img.bz2.")
            }
        }
    }

    func run() throws {
        let files = try config.map { try ConfigOptions.load($0) }
        let store = try templates.store()
        let binderDirectory = builds.directory()
        let epoch = try sourceDateEpoch()
        let resolved = try download.resolve(base)
        if let note = resolved.note { Console.error(note) }
        let requests = zip(files, output).map { file, output in
            var request = ImagePatcher.Request(base: resolved.argument, output: output, lab: file, store: store, binderDirectory: binderDirectory,
                                               binderExecutable: binder.binder, epoch: epoch)
            request.baseSHA256 = baseSha256 ?? resolved.sha256
            request.timeout = download.timeout
            request.credentials = resolved.credentials
            return request
        }
        let reports = try ImageBatch(requests, progress: ProgressBar()).run()
        for report in reports {
            for warning in report.warnings { Console.warning(warning) }
        }
        if json {
            let summaries = zip(output, reports).map { Self.summary(output: $0, $1) }
            Console.output(try Self.encode(summaries.count == 1 ? AnyEncodable(summaries[0]) : AnyEncodable(summaries)))
        } else {
            if let digest = reports.first?.baseSHA256 { Console.output("\(base): base sha256 \(digest)") }
            for (output, report) in zip(output, reports) {
                Console.output("\(output): \(report.arch.debianName) image, \(wholeMiB(report.imageSize)), \(wholeMiB(report.mappedBytes)) mapped, bootfs \(report.bootKind), \(report.overlayEntries) overlay entries")
                Console.output("\(output): first boot: \(report.firstBoot.summary)")
                for (path, sum) in report.outputs { Console.output("\(sum)  \(path)") }
            }
        }
    }

    /// One image in `--json` output (an object for one image, an array of them for several).
    struct Summary: Encodable {
        struct Output: Encodable { var path: String; var sha256: String }
        struct Part: Encodable { var index: Int; var offset: UInt64; var length: UInt64; var partuuid: String }
        var output: String
        /// The base's sha256 when it was downloaded or pinned.
        var baseSha256: String?
        var arch: String
        var imageSize: UInt64
        var mappedBytes: UInt64
        var bootfs: String
        var partitions: [Part]
        var overlayEntries: Int
        var firstBoot: FirstBootSummary
        var warnings: [String]
        var files: [Output]
        var phaseSeconds: [String: Double]
    }

    private static func summary(output: String, _ report: ImagePatcher.Report) -> Summary {
        Summary(
            output: output, baseSha256: report.baseSHA256, arch: report.arch.debianName, imageSize: report.imageSize, mappedBytes: report.mappedBytes,
            bootfs: "\(report.bootKind)",
            partitions: report.partitions.map { .init(index: $0.index, offset: $0.range.offset, length: $0.range.length, partuuid: $0.partUUID) },
            overlayEntries: report.overlayEntries, firstBoot: FirstBootSummary(report.firstBoot), warnings: report.warnings,
            files: report.outputs.map { .init(path: $0.path, sha256: $0.sha256) },
            phaseSeconds: Dictionary(report.phaseSeconds.map { ($0.phase, $0.seconds) }, uniquingKeysWith: +))
    }

    private static func encode(_ value: AnyEncodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Either shape of `--json` output through one encoder call.
private struct AnyEncodable: Encodable {
    let encodeValue: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: Encoder) throws { try encodeValue(encoder) }
}
