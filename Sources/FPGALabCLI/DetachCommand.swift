import ArgumentParser
import LabConfig
import USBIPClient

/// `fpga-lab detach NAME... | --all [--config lab.yaml]`: give boards back to their server.
struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach",
        abstract: "Detach boards from this machine's vhci ports.",
        discussion: "Names need --config; --all detaches every vhci port in use (every board of the lab with --config)."
    )

    @Argument(help: "Board names from the lab config.")
    var names: [String] = []

    @Flag(name: .long, help: "Every attached board (of the lab, with --config).")
    var all = false

    @OptionGroup var config: OptionalConfigOptions

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if all == !names.isEmpty { throw ValidationError("give board names or --all (not both)") }
        if !names.isEmpty && config.config == nil { throw ValidationError("board names need --config lab.yaml") }
    }

    func run() throws {
        let lab = try config.load()
        let usbip = client.client()
        let attached = try usbip.attached()
        var targets: [(String, Int)] = []
        var failures = 0
        if let lab {
            for board in try selectBoards(names, all: all, in: lab) {
                let ports = attached.filter { $0.record.map { board.matches($0) } == true }.map(\.port.port)
                if ports.isEmpty && !all {
                    Console.failure("\(board.name): not attached")
                    failures += 1
                }
                targets += ports.map { (board.name, $0) }
            }
        } else {
            targets = attached.map { ("port \($0.port.port)", $0.port.port) }
        }
        for (name, port) in targets {
            do {
                try usbip.detach(port: port)
                Console.output("\(name): detached from vhci port \(port)")
            } catch {
                Console.failure("\(name): \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }
}
