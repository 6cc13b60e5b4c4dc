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

/// `--binder PATH`, for the verbs that bake usbip-binder into an overlay (render, build-image).
struct BinderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The usbip-binder executable to bake in (daemon: binder).", valueName: "path"))
    var binder: String?

    /// The executable's bytes, when `--binder` is given.
    func executable() throws -> [UInt8]? {
        guard let binder else { return nil }
        guard let data = FileManager.default.contents(atPath: binder) else {
            throw CLIError("\(binder): cannot read the usbip-binder executable")
        }
        return Array(data)
    }
}
