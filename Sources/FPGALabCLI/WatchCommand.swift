import ArgumentParser
import Foundation
import LabConfig
import USBIPClient

/// `fpga-lab watch --config lab.yaml`: keep the lab's boards attached until SIGINT/SIGTERM.
struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Keep the lab's boards attached: re-attach after a server, network or replug drop.",
        discussion: "Checks the vhci ports every --interval seconds; a board that is missing is attached again, retrying after 1 s, doubling to 30 s. Follows a board that re-enumerates with an also: ID. Logs one line per event; stops on SIGINT or SIGTERM."
    )

    @Argument(help: "Board names (default: every board of the lab).")
    var names: [String] = []

    @OptionGroup var config: ConfigOptions

    @OptionGroup var server: ServerOptions

    @Option(name: .long, help: ArgumentHelp("Seconds between checks.", valueName: "seconds"))
    var interval: Double = 1

    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard interval > 0 else { throw ValidationError("--interval must be a positive number of seconds") }
    }

    func run() throws {
        let lab = try config.load().lab
        let boards = try selectBoards(names, all: names.isEmpty, in: lab)
        let address = try server.address(lab: lab)
        let usbip = try client.loadedClient(lab: lab)
        StopSignal.install()
        let log: (String) -> Void = { line in
            let stamp = ISO8601DateFormatter().string(from: Date())
            FileHandle.standardOutput.write(Data("\(stamp) \(line)\n".utf8))
        }
        log("watching \(boards.count) board\(boards.count == 1 ? "" : "s") on \(address)")
        let watcher = Watcher(client: usbip, server: address, boards: boards, log: log)
        watcher.run(interval: interval) { StopSignal.requested }
        log("stopped by signal")
    }
}

/// SIGINT/SIGTERM set a flag the watch loop polls (a signal handler may do nothing more).
enum StopSignal {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    /// Also unblocks both: a parent (a test runner, some service managers) may hand them down blocked.
    static func install() {
        signal(SIGINT) { _ in StopSignal.flag = 1 }
        signal(SIGTERM) { _ in StopSignal.flag = 1 }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}
