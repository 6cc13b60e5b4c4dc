import ArgumentParser
import LabConfig

/// `fpga-lab check --config lab.yaml`: validate a lab config and its capacity.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a lab config: schema, IDs, addresses and capacity.",
        discussion: "Prints every problem as FILE:LINE:COLUMN: FIELD: MESSAGE on stderr. Exit status 0 when valid (warnings allowed), 1 when not."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let file = try options.load()
        let lab = file.lab
        let warnings = file.warnings.isEmpty ? "" : ", \(file.warnings.count) warning\(file.warnings.count == 1 ? "" : "s")"
        Console.output("\(file.path): valid: lab \(lab.name), \(lab.devices.count) board\(lab.devices.count == 1 ? "" : "s"), server \(lab.server.board.rawValue) (\(lab.hostname)) with \(lab.server.daemon.rawValue) on port \(lab.server.port)\(warnings)")
    }
}
