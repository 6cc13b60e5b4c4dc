import ArgumentParser
import Foundation
import LabConfig
import USBIPClient
import USBIPWire

/// Options of the client verbs (list, attach, detach, status, watch): where sysfs and the
/// attachment records live, and how long the network may take.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stands in for /sys (tests).", valueName: "dir"))
    var sysfsRoot: String = "/sys"

    @Option(name: .long, help: ArgumentHelp("Where attachments are recorded, one portN file per vhci port (shared with usbip).", valueName: "dir"))
    var stateDir: String = "/var/run/vhci_hcd"

    @Option(name: .long, help: ArgumentHelp("Seconds for connecting and for each reply.", valueName: "seconds"))
    var timeout: Double = 5

    @Option(name: .long, help: ArgumentHelp("Seconds after which an attached board's server that stopped answering is given up and the vhci port freed (keepalive, TCP_USER_TIMEOUT), so `watch` can attach it again (default: the lab's server.dead_peer_timeout, else 30).", valueName: "seconds"))
    var deadPeerTimeout: Int?

    /// The longest --timeout: a day (and a finite number: `inf` or `1e300` once crashed the
    /// conversion to poll's milliseconds).
    static let maxTimeout: Double = 86_400

    func validate() throws {
        guard timeout > 0, timeout <= Self.maxTimeout else {
            throw ValidationError("--timeout \(timeout): expected seconds above 0, at most \(Int(Self.maxTimeout))")
        }
        if let deadPeerTimeout, !Server.deadPeerTimeoutRange.contains(deadPeerTimeout) {
            throw ValidationError("--dead-peer-timeout \(deadPeerTimeout): expected seconds in \(Server.deadPeerTimeoutRange.lowerBound)-\(Server.deadPeerTimeoutRange.upperBound)")
        }
    }

    /// The client, with the dead-peer timeout from the option, else `lab`'s, else the default.
    func client(lab: Lab? = nil) -> USBIPClient {
        USBIPClient(vhci: VHCIDriver(sysfsRoot: sysfsRoot), records: PortRecords(directory: stateDir), timeout: timeout,
                    deadPeerTimeout: deadPeerTimeout ?? lab?.server.deadPeerTimeout ?? USBIPRequests.defaultDeadPeerTimeout)
    }

    /// The client of the verbs that attach (attach, watch): vhci-hcd loaded when it is not.
    func loadedClient(lab: Lab) throws -> USBIPClient {
        let usbip = client(lab: lab)
        try usbip.vhci.ensureLoaded()
        return usbip
    }
}

/// `--server HOST[:PORT]`, for the client verbs that talk to a server (list, attach, watch).
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The USB/IP server (default: the lab's client.server or server.hostname).", valueName: "host[:port]"))
    var server: String?

    /// `--server`, else the lab's `client.server`, else its `server.hostname` (or lab name);
    /// the port from `server.port` unless `--server` names one.
    func address(lab: Lab?) throws -> USBIPServerAddress {
        let defaultPort = lab.map { UInt16(clamping: $0.server.port) } ?? USBIP.defaultPort
        if let server {
            guard let address = USBIPServerAddress(parsing: server, defaultPort: defaultPort) else {
                throw CLIError("--server \(server): expected HOST or HOST:PORT (IPv6: [ADDR]:PORT)")
            }
            return address
        }
        guard let lab else { throw CLIError("no server: give --server HOST[:PORT] or --config lab.yaml") }
        let host = lab.client?.server ?? lab.hostname
        guard let address = USBIPServerAddress(parsing: host, defaultPort: defaultPort) else {
            throw CLIError("the lab's server '\(host)' is not HOST or HOST:PORT")
        }
        return address
    }
}

/// USB speed as `lsusb -t` says it: `enum usb_device_speed` to Mbit/s.
func speedText(_ speed: UInt32) -> String {
    switch speed {
    case 1: return "1.5M"
    case 2: return "12M"
    case 3: return "480M"
    case 4: return "wireless"
    case 5: return "5000M"
    case 6: return "10000M"
    default: return "unknown"
    }
}

func hex4(_ value: UInt16) -> String { USBIP.hex(UInt32(value), width: 4) }
func hex2(_ value: UInt8) -> String { USBIP.hex(UInt32(value), width: 2) }

/// JSON with sorted keys, one document, for `--json` outputs.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    Console.output(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A board's state as `list` and `attach` say it: `available`, `in use by ADDRESS:PORT since
/// 2026-12-05T22:40:01Z` (who the server handed it to), `in use`, `error`.
func holderText(_ board: USBIPBoardHolder) -> String {
    switch board.state {
    case .available: return "available"
    case .error: return "error"
    case .inUse:
        guard let (address, port, since) = holderParts(board) else { return "in use" }
        return "in use by \(address):\(port) since \(since)"
    }
}

/// The holder's address (IPv4 plain, IPv6 in brackets), port and since (ISO 8601, UTC).
func holderParts(_ board: USBIPBoardHolder) -> (address: String, port: UInt16, since: String)? {
    guard board.state == .inUse, board.hasHolder else { return nil }
    let bytes = board.peerAddress
    let address: String
    if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
        address = bytes[12...].map(String.init).joined(separator: ".")
    } else {
        var storage = in6_addr()
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes.prefix(16)) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        address = "[" + (inet_ntop(AF_INET6, &storage, &text, socklen_t(text.count)).map { String(cString: $0) } ?? "?") + "]"
    }
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return (address, board.peerPort, formatter.string(from: Date(timeIntervalSince1970: TimeInterval(board.since))))
}
