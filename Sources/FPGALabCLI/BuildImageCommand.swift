import ArgumentParser
import DiskImage
import Foundation
import Overlay

/// `fpga-lab build-image`: patch a stock Raspberry Pi OS image with a lab's overlay.
struct BuildImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-image",
        abstract: "Patch a Raspberry Pi OS image with the lab's overlay; write it with a .bmap and SHA256SUMS.",
        discussion: """
        BASE may be .img, .img.xz, .img.gz, .img.zst, .img.bz2 or a .zip holding one image; it is \
        streamed, never modified. OUT is a sparse .img, or compressed by its suffix (.xz, .gz, .zst, \
        .bz2). OUT.bmap (of the raw image) and SHA256SUMS are written beside OUT. Nothing needs root, \
        a loop device or a mount. With SOURCE_DATE_EPOCH set, the same inputs give the same bytes.
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("The stock image to start from.", valueName: "image"))
    var base: String

    @Option(name: .long, help: ArgumentHelp("The image to write (.img, .img.xz, ...).", valueName: "out.img"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("The usbip-binder executable to bake in (default: <binder-dir>/<arch>/usbip-binder).", valueName: "path"))
    var binder: String?

    @Option(name: .long, help: ArgumentHelp("Where `make binder` put the usbip-binder builds (default: ./build/binder, else the one of the source tree fpga-lab was built in).", valueName: "dir"))
    var binderDir: String?

    @Option(name: .long, help: ArgumentHelp("Use the .mustache templates in this directory instead of the built-in ones.", valueName: "dir"))
    var templates: String?

    @Flag(name: .long, help: "Print a JSON summary on stdout.")
    var json = false

    func validate() throws {
        guard output.hasSuffix(".img") || [".img.xz", ".img.gz", ".img.zst", ".img.bz2"].contains(where: output.hasSuffix) else {
            throw ValidationError("--output \(output): the name must end in .img, .img.xz, .img.gz, .img.zst or .img.bz2.")
        }
    }

    func run() throws {
        let file = try options.load()
        do {
            let request = ImagePatcher.Request(
                base: base, output: output, lab: file, store: try TemplateStore(templatesDirectory: templates),
                binderDirectory: binderDir ?? defaultBinderDirectory(), binderExecutable: binder, epoch: try sourceDateEpoch())
            let report = try ImagePatcher(request, progress: TerminalProgress()).run()
            for warning in report.warnings { Console.warning(warning) }
            if json {
                Console.output(try jsonSummary(report))
            } else {
                Console.output("\(output): \(report.arch.debianName) image, \(TerminalProgress.mib(report.imageSize)), \(TerminalProgress.mib(report.mappedBytes)) mapped, bootfs \(report.bootKind), \(report.overlayEntries) overlay entries")
                for (path, sum) in report.outputs { Console.output("\(sum)  \(path)") }
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            Console.error("fpga-lab: error: \(error)")
            throw ExitCode.failure
        }
    }

    /// `./build/binder`, else `build/binder` of the source tree this binary was built in
    /// (`.build/<triple>/<config>/fpga-lab`).
    private func defaultBinderDirectory() -> String {
        let local = "build/binder"
        if FileManager.default.fileExists(atPath: local) { return local }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var tree = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            tree = tree.deletingLastPathComponent()
            let candidate = tree.appendingPathComponent("build/binder").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return local
    }

    private func jsonSummary(_ report: ImagePatcher.Report) throws -> String {
        struct Summary: Encodable {
            struct Output: Encodable { var path: String; var sha256: String }
            struct Part: Encodable { var index: Int; var offset: UInt64; var length: UInt64; var partuuid: String }
            var output: String
            var arch: String
            var imageSize: UInt64
            var mappedBytes: UInt64
            var bootfs: String
            var partitions: [Part]
            var overlayEntries: Int
            var warnings: [String]
            var files: [Output]
            var phaseSeconds: [String: Double]
        }
        let summary = Summary(
            output: output, arch: report.arch.debianName, imageSize: report.imageSize, mappedBytes: report.mappedBytes,
            bootfs: "\(report.bootKind)",
            partitions: report.partitions.map { .init(index: $0.index, offset: $0.range.offset, length: $0.range.length, partuuid: $0.partUUID) },
            overlayEntries: report.overlayEntries, warnings: report.warnings,
            files: report.outputs.map { .init(path: $0.path, sha256: $0.sha256) },
            phaseSeconds: Dictionary(report.phaseSeconds.map { ($0.phase, $0.seconds) }, uniquingKeysWith: +))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(summary), as: UTF8.self)
    }
}
