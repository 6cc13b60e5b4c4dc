import ArgumentParser
import LabConfig
import USBIPClient
import USBIPWire

/// `fpga-lab status [--config lab.yaml] [--json]`: which board sits on which vhci port.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the vhci ports in use: board, server busid, speed and the /dev nodes it brought.",
        discussion: "Reads every vhci_hcd controller's status files; free ports are summed up per hub."
    )

    @OptionGroup var config: OptionalConfigOptions

    @Flag(name: .long, help: "Print a JSON array of the ports in use.")
    var json = false

    @OptionGroup var client: ClientOptions

    /// One entry of `--json`.
    struct Entry: Encodable {
        var port: Int
        var hub: String
        var speed: UInt32
        var speedText: String
        var devid: String
        var localBusid: String
        var server: String?
        var busid: String?
        var vendor: String?
        var product: String?
        var name: String?
        var devices: [String]
    }

    func run() throws {
        let lab = try config.load()
        let usbip = client.client()
        let ports = try usbip.vhci.ports()
        let attached = try usbip.attached()
        let entries = attached.map { a in
            Entry(port: a.port.port, hub: a.port.hub.rawValue, speed: a.port.speed, speedText: speedText(a.port.speed),
                  devid: USBIP.hex(a.port.devid, width: 8), localBusid: a.port.localBusID,
                  server: a.record.map { USBIPServerAddress(host: $0.host, port: $0.tcpPort).description },
                  busid: a.record?.busID, vendor: a.record?.vendor.map(hex4), product: a.record?.product.map(hex4),
                  name: a.record.flatMap { lab?.device(for: $0)?.name },
                  devices: a.deviceNodes.map { "/dev/" + $0 })
        }
        if json { return try printJSON(entries) }
        let free = { (hub: VHCIHub) in ports.filter { $0.hub == hub && $0.isFree }.count }
        Console.output("vhci: \(ports.count) ports, free \(free(.high)) hs (USB 2) and \(free(.superSpeed)) ss (USB 3)")
        for e in entries {
            let id = e.vendor.map { "\($0):\(e.product ?? "????")" } ?? "?"
            Console.output("port \(e.port) (\(e.hub), \(e.speedText)): \(e.name ?? "-") \(e.busid ?? "?")@\(e.server ?? "?") \(id) local \(e.localBusid)"
                           + (e.devices.isEmpty ? "" : " " + e.devices.joined(separator: " ")))
        }
    }
}
