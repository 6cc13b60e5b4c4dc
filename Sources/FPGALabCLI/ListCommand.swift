import ArgumentParser
import LabConfig
import USBIPClient
import USBIPWire

/// `fpga-lab list --server HOST[:PORT] [--config lab.yaml] [--json]`: what a server exports.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the boards a USB/IP server exports.",
        discussion: "With --config, each device is named after the lab board it matches (vendor:product or an also: ID, and port: against the busid)."
    )

    @Option(name: .long, help: ArgumentHelp("The USB/IP server (default: the lab's client.server or server.hostname).", valueName: "host[:port]"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("A lab config, to name the boards.", valueName: "lab.yaml"))
    var config: String?

    @Flag(name: .long, help: "Print a JSON array.")
    var json = false

    @OptionGroup var client: ClientOptions

    /// One entry of `--json`.
    struct Entry: Encodable {
        var busid: String
        var path: String
        var busnum: UInt32
        var devnum: UInt32
        var vendor: String
        var product: String
        var bcdDevice: String
        var speed: UInt32
        var speedText: String
        var deviceClass: String
        var interfaces: [Interface]
        var name: String?

        struct Interface: Encodable {
            var `class`: String
            var subclass: String
            var `protocol`: String
        }
    }

    func run() throws {
        let lab = try loadOptionalLab(config)
        let address = try resolveServer(server, lab: lab)
        let devices: [USBIPExportedDevice]
        do { devices = try USBIPRequests.devlist(address, timeout: client.timeout) } catch { throw clientFailure(error) }
        let entries = devices.map { e in
            let d = e.device
            return Entry(busid: d.busID, path: d.path, busnum: d.busnum, devnum: d.devnum,
                         vendor: hex4(d.idVendor), product: hex4(d.idProduct), bcdDevice: hex4(d.bcdDevice),
                         speed: d.speed, speedText: speedText(d.speed), deviceClass: hex2(d.deviceClass),
                         interfaces: e.interfaces.map { .init(class: hex2($0.interfaceClass), subclass: hex2($0.interfaceSubClass), protocol: hex2($0.interfaceProtocol)) },
                         name: lab?.device(for: d)?.name)
        }
        if json { return try printJSON(entries) }
        if entries.isEmpty { return Console.output("\(address): no exported devices") }
        let width = max(5, entries.map(\.busid.count).max() ?? 0)
        Console.output("BUSID".padded(width) + "  ID         SPEED   IFACES  NAME")
        for e in entries {
            let ifaces = e.interfaces.map { "\($0.class)/\($0.subclass)/\($0.protocol)" }.joined(separator: ",")
            Console.output(e.busid.padded(width) + "  \(e.vendor):\(e.product)  " + e.speedText.padded(6)
                           + "  " + String(e.interfaces.count).padded(6) + "  " + (e.name ?? "-") + "  " + ifaces)
        }
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
