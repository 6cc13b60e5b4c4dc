/// Capacity preflight: limits a lab runs into only once boards are plugged in.
public enum Capacity {
    /// usbip-host keeps exported busids in a fixed table of 16 (`MAX_BUSID`).
    public static let maxExportedBusids = 16
    /// The VL805 xHCI controller of a Pi 4/400/CM4 has 32 device slots (hubs take slots too).
    public static let pi4XHCISlots = 32
    /// Debian 12's stock vhci-hcd: 8 controllers x 15 ports x (high-speed + super-speed).
    public static let debianStockPorts = 240
    /// Kconfig limits: USBIP_VHCI_HC_PORTS <= 15, USBIP_VHCI_NR_HCS <= 128, hs + ss each.
    public static let maxClientPorts = 2 * 15 * 128

    public struct Finding: Equatable, Sendable {
        public var field: String
        public var message: String
        public var severity: Diagnostic.Severity
    }

    public static func check(_ lab: Lab) -> [Finding] {
        var findings: [Finding] = []
        let count = lab.devices.count
        if count > maxExportedBusids {
            findings.append(.init(field: "devices", message: "\(count) boards exceed the \(maxExportedBusids) busids usbip-host can export from one server; split them over two servers", severity: .error))
        }
        if [.pi4, .pi400, .cm4].contains(lab.server.board) {
            let slots = count + impliedHubs(lab.devices).count
            if slots > pi4XHCISlots {
                findings.append(.init(field: "devices", message: "\(count) boards and their hubs need \(slots) xHCI slots; a Pi 4's VL805 has \(pi4XHCISlots)", severity: .error))
            }
        }
        if let client = lab.client {
            if client.ports < count {
                findings.append(.init(field: "client.ports", message: "\(client.ports) vhci ports cannot hold \(count) boards", severity: .error))
            } else if client.ports > debianStockPorts {
                findings.append(.init(field: "client.ports", message: "\(client.ports) ports is more than Debian 12's stock vhci-hcd (\(debianStockPorts)); `fpga-lab client-recipe` builds one with enough", severity: .warning))
            }
        }
        if lab.server.daemon == .usbipd, lab.server.deadPeerTimeout != Server.defaultDeadPeerTimeout {
            findings.append(.init(field: "server.dead_peer_timeout", message: "applies to usbip-binder only (daemon: binder); usbipd frees a vanished client's board only when TCP gives up on it", severity: .warning))
        }
        if lab.server.allow.isEmpty {
            findings.append(.init(field: "server.allow", message: "empty: only loopback clients will be able to connect", severity: .warning))
        }
        return findings
    }

    /// Hubs implied by port paths: `1-1.3.2` sits behind the hubs `1-1` and `1-1.3`.
    static func impliedHubs(_ devices: [Device]) -> Set<String> {
        var hubs: Set<String> = []
        for port in devices.compactMap(\.port) {
            var path = port
            while let dot = path.lastIndex(of: ".") {
                path = String(path[..<dot])
                hubs.insert(path)
            }
        }
        return hubs
    }
}
