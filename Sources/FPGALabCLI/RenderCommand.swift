import BootFiles
import ArgumentParser
import Foundation
import LabConfig
import Overlay

/// `fpga-lab render`: the overlay of a lab as a directory or a deterministic tarball.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render the files a Pi needs (udev rules, systemd units, ...) as a directory or tarball.",
        discussion: """
        The tarball (.tar, .tar.gz, .tar.xz, .tar.zst) is deterministic: entries sorted, owned by \
        root:root, every mtime SOURCE_DATE_EPOCH (or 0). It unpacks onto a running Pi's / \
        (boot files under boot/firmware/).
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("Write the overlay as a directory tree (replaced atomically; missing parent directories are created).", valueName: "dir"))
    var outputDir: String?

    @Option(name: .long, help: ArgumentHelp("Write the overlay as a tarball, compressed by suffix (missing parent directories are created).", valueName: "overlay.tar.gz"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("The Pi's config.txt to edit (dwc2 overlay); the edited copy goes into boot/firmware/.", valueName: "config.txt"))
    var bootConfig: String?

    @Option(name: .long, help: ArgumentHelp("The Pi's cmdline.txt to edit (modules-load=dwc2).", valueName: "cmdline.txt"))
    var bootCmdline: String?

    @OptionGroup var binder: BinderOptions

    @OptionGroup var templates: TemplateOptions

    func validate() throws {
        guard (outputDir == nil) != (output == nil) else {
            throw ValidationError("Give exactly one of --output-dir DIR or --output FILE.")
        }
        if let output, !output.contains(".tar") && !output.hasSuffix(".tgz") {
            throw ValidationError("--output \(output): the name must end in .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2.")
        }
    }

    func run() throws {
        let file = try options.load()
        let epoch = try sourceDateEpoch()
        var inputs = OverlayRenderer.Inputs(configBytes: file.bytes)
        if let bootConfig { inputs.bootConfig = .init(name: bootConfig, bytes: try readBytes(bootConfig, what: "config.txt")) }
        if let bootCmdline { inputs.bootCmdline = .init(name: bootCmdline, bytes: try readBytes(bootCmdline, what: "cmdline.txt")) }
        inputs.binderExecutable = try binder.executable()
        let result = try OverlayRenderer(store: templates.store()).render(file.lab, inputs)
        for warning in result.warnings { Console.warning(warning) }
        let read = [options.config, templates.templates, binder.binder, bootConfig, bootCmdline].compactMap { $0 }
        if let output {
            try result.overlay.writeTarball(to: output, mtime: epoch, inputs: read)
            Console.output("\(output): \(result.overlay.entries.count) entries")
        } else if let outputDir {
            try result.overlay.writeDirectory(to: outputDir, mtime: epoch, marker: Manifest.path, inputs: read)
            Console.output("\(outputDir): \(result.overlay.entries.count) entries")
        }
    }
}
