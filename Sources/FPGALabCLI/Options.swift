import ArgumentParser
import Foundation
import LabConfig
import Overlay

// The options several verbs share, each declared once here and taken in with @OptionGroup, so
// that their names, value names and help read the same in every verb's help.

/// `--config lab.yaml`, for the verbs that need a lab config (check, render, client-recipe,
/// attach, watch).
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The lab config.", valueName: "lab.yaml"))
    var config: String

    /// Loads and validates the config; on errors prints every diagnostic and exits 1.
    func load() throws -> LabFile { try Self.load(config) }

    /// Loads and validates the lab config at `config`: its warnings on stderr; when invalid,
    /// every diagnostic (FILE:LINE:COLUMN: ...) and a count, then exit 1.
    static func load(_ config: String) throws -> LabFile {
        do {
            let file = try LabFile.load(path: config)
            for warning in file.warnings { Console.error(warning.description) }
            return file
        } catch let error as LabConfigError {
            for diagnostic in error.diagnostics { Console.error(diagnostic.description) }
            let count = error.errors.count
            Console.error("\(config): invalid: \(count) error\(count == 1 ? "" : "s")")
            throw ExitCode.failure
        }
    }
}

/// `[--config lab.yaml]`, for the verbs a lab config only names boards for (list, status,
/// detach).
struct OptionalConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A lab config, to name the boards.", valueName: "lab.yaml"))
    var config: String?

    /// The lab when `--config` is given, loaded as `ConfigOptions` loads it.
    func load() throws -> Lab? { try config.map { try ConfigOptions.load($0).lab } }
}

/// `--templates DIR`, for the verbs that render templates (render, build-image, client-recipe).
struct TemplateOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Use the .mustache templates in this directory instead of the built-in ones.", valueName: "dir"))
    var templates: String?

    func store() throws -> TemplateStore { try TemplateStore(templatesDirectory: templates) }
}

/// `--binder-dir DIR`, where the usbip-binder builds are, one per architecture
/// (`DIR/ARCH/usbip-binder`), for the verbs that pick one (build-image by the image's
/// architecture, render by --arch).
struct BinderBuildsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Where the usbip-binder builds are: without --binder, <dir>/<arch>/usbip-binder is baked in (default: PREFIX/lib/fpga-lab/binder of an installed fpga-lab, else ./build/binder, else the one of the source tree fpga-lab was built in).", valueName: "dir"))
    var binderDir: String?

    /// `--binder-dir`, else the installed builds (`<prefix>/lib/fpga-lab/binder` beside
    /// `<prefix>/bin/fpga-lab`: the .deb's /usr/lib/fpga-lab/binder, or `make install PREFIX=`'s),
    /// else `./build/binder` (`make binder`), else `build/binder` of the source tree this binary
    /// was built in (`.build/<triple>/<config>/fpga-lab`).
    func directory() -> String {
        if let binderDir { return binderDir }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let installed = executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("lib/fpga-lab/binder").path
        if FileManager.default.fileExists(atPath: installed) { return installed }
        let local = "build/binder"
        if FileManager.default.fileExists(atPath: local) { return local }
        var tree = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            tree = tree.deletingLastPathComponent()
            let candidate = tree.appendingPathComponent("build/binder").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return local
    }
}

/// `--binder PATH`, for the verbs that bake usbip-binder into an overlay (render, build-image).
struct BinderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The usbip-binder executable to bake in (daemon: binder).", valueName: "path"))
    var binder: String?

    /// The executable's bytes, when `--binder` is given.
    func executable() throws -> [UInt8]? { try binder.map(Self.read) }

    /// The bytes of the usbip-binder executable at `path`.
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("\(path): cannot read the usbip-binder executable")
        }
        return Array(data)
    }
}
