import BootFiles
import ArgumentParser
import Foundation
import ImageInspect
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
        (boot files under boot/firmware/). For a `daemon: binder` lab the usbip-binder build of \
        --arch is baked in (default armv6, which runs on every Pi under 32- and 64-bit \
        Raspberry Pi OS alike), or the executable --binder names.
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

    @Option(name: .long, help: ArgumentHelp("The usbip-binder build to bake in for a daemon: binder lab: aarch64 (arm64), armv6 (armhf) or x86_64 (amd64).", valueName: "arch"))
    var arch: String?

    @OptionGroup var builds: BinderBuildsOptions

    @OptionGroup var templates: TemplateOptions

    func validate() throws {
        guard (outputDir == nil) != (output == nil) else {
            throw ValidationError("Give exactly one of --output-dir DIR or --output FILE.")
        }
        if let output, !output.contains(".tar") && !output.hasSuffix(".tgz") {
            throw ValidationError("--output \(output): the name must end in .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2.")
        }
        if let arch {
            guard ELFArch(named: arch) != nil else {
                throw ValidationError("--arch \(arch): expected aarch64 (arm64), armv6 (armhf) or x86_64 (amd64).")
            }
            guard binder.binder == nil else { throw ValidationError("Give --binder PATH or --arch ARCH, not both.") }
        }
    }

    func run() throws {
        let file = try options.load()
        let epoch = try sourceDateEpoch()
        var inputs = OverlayRenderer.Inputs(configBytes: file.bytes)
        if let bootConfig { inputs.bootConfig = .init(name: bootConfig, bytes: try readBytes(bootConfig, what: "config.txt")) }
        if let bootCmdline { inputs.bootCmdline = .init(name: bootCmdline, bytes: try readBytes(bootCmdline, what: "cmdline.txt")) }
        let binderPath = try binderPath(for: file.lab)
        inputs.binderExecutable = try binderPath.map(BinderOptions.read)
        let result = try OverlayRenderer(store: templates.store()).render(file.lab, inputs)
        for warning in result.warnings { Console.warning(warning) }
        let read = [options.config, templates.templates, binderPath, bootConfig, bootCmdline].compactMap { $0 }
        if let output {
            try result.overlay.writeTarball(to: output, mtime: epoch, inputs: read)
            Console.output("\(output): \(result.overlay.entries.count) entries")
        } else if let outputDir {
            try result.overlay.writeDirectory(to: outputDir, mtime: epoch, marker: Manifest.path, inputs: read)
            Console.output("\(outputDir): \(result.overlay.entries.count) entries")
        }
    }

    /// --binder; else, for a `daemon: binder` lab, the build of --arch (default armv6) in the
    /// builds directory. Without --arch a missing build is left to the renderer's warning; with
    /// it, an error.
    private func binderPath(for lab: Lab) throws -> String? {
        if let path = binder.binder { return path }
        guard lab.server.daemon == .binder else { return nil }
        let chosen = arch.flatMap(ELFArch.init(named:)) ?? .armhf
        let path = chosen.binderPath(in: builds.directory())
        guard FileManager.default.isReadableFile(atPath: path) else {
            guard arch == nil else { throw CLIError("\(path): no usbip-binder build for --arch \(chosen.binderBuild) (`make binder` builds them; or give --binder PATH)") }
            return nil
        }
        if arch == nil {
            Console.error("render: baking in \(path) (ARMv6: runs on every Pi, 32- or 64-bit Raspberry Pi OS; --arch aarch64 for the 64-bit build)")
        }
        return path
    }
}
