import ArgumentParser
import LabConfig
import USBIPClient
import USBIPWire

/// `fpga-lab list --server HOST[:PORT] [--config lab.yaml] [--json]`: what a server exports.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the boards a USB/IP server exports, and who holds each one in use.",
        discussion: "With --config, each device is named after the lab board it matches (vendor:product or an also: ID, and port: against the busid). STATE comes from usbip-binder's holders request: available, or in use by ADDRESS:PORT since TIME (UTC); against a stock usbipd, which does not answer it, the state is unknown."
    )

    @OptionGroup var server: ServerOptions

    @OptionGroup var config: OptionalConfigOptions

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
        /// available, in-use, error, or unknown (the server does not tell).
        var state: String
        var heldBy: Holder?

        struct Holder: Encodable {
            var address: String
            var port: UInt16
            var since: String
        }

        struct Interface: Encodable {
            var `class`: String
            var subclass: String
            var `protocol`: String
        }
    }

    func run() throws {
        let lab = try config.load()
        let address = try server.address(lab: lab)
        let devices = try USBIPRequests.devlist(address, timeout: client.timeout)
        // The state is asked for on its own connection; a server that does not answer it (stock
        // usbipd closes the connection) leaves every state unknown rather than guessed.
        let holders = (try? USBIPRequests.holders(address, timeout: client.timeout)) ?? nil
        let entries = devices.map { e in
            let d = e.device
            let board = holders?.first { $0.busID == d.busID }
            return Entry(busid: d.busID, path: d.path, busnum: d.busnum, devnum: d.devnum,
                         vendor: hex4(d.idVendor), product: hex4(d.idProduct), bcdDevice: hex4(d.bcdDevice),
                         speed: d.speed, speedText: speedText(d.speed), deviceClass: hex2(d.deviceClass),
                         interfaces: e.interfaces.map { .init(class: hex2($0.interfaceClass), subclass: hex2($0.interfaceSubClass), protocol: hex2($0.interfaceProtocol)) },
                         name: lab?.device(for: d)?.name,
                         state: board.map { ["available", "in-use", "error"][Int($0.state.rawValue) - 1] } ?? "unknown",
                         heldBy: board.flatMap(holderParts).map { .init(address: $0.address, port: $0.port, since: $0.since) })
        }
        let stateTexts = Dictionary(uniqueKeysWithValues: entries.map { e in
            (e.busid, holders?.first { $0.busID == e.busid }.map(holderText) ?? "unknown")
        })
        if json { return try printJSON(entries) }
        if entries.isEmpty { return Console.output("\(address): no exported devices") }
        let width = max(5, entries.map(\.busid.count).max() ?? 0)
        let classes = Dictionary(uniqueKeysWithValues: entries.map { e in
            (e.busid, e.interfaces.map { "\($0.class)/\($0.subclass)/\($0.protocol)" }.joined(separator: ","))
        })
        let nameWidth = max(4, entries.map { ($0.name ?? "-").count }.max() ?? 0)
        let classWidth = max(10, classes.values.map(\.count).max() ?? 0)
        Console.output("BUSID".padded(width) + "  ID         SPEED   IFACES  " + "NAME".padded(nameWidth) + "  "
                       + "INTERFACES".padded(classWidth) + "  STATE")
        for e in entries {
            Console.output(e.busid.padded(width) + "  \(e.vendor):\(e.product)  " + e.speedText.padded(6)
                           + "  " + String(e.interfaces.count).padded(6) + "  " + (e.name ?? "-").padded(nameWidth)
                           + "  " + (classes[e.busid] ?? "").padded(classWidth) + "  " + (stateTexts[e.busid] ?? "unknown"))
        }
        if holders == nil {
            Console.error("\(address): the server does not tell who holds its boards (not usbip-binder): state unknown")
        }
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
