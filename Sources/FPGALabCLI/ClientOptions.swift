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

    @Option(name: .long, help: ArgumentHelp("Seconds for connecting and for each reply.", valueName: "s"))
    var timeout: Double = 5

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    var client: USBIPClient {
        USBIPClient(vhci: VHCIDriver(sysfsRoot: sysfsRoot), records: PortRecords(directory: stateDir), timeout: timeout)
    }
}

/// Loads an optional `--config` the way ConfigOptions does (diagnostics on stderr, exit 1).
func loadOptionalLab(_ path: String?) throws -> Lab? {
    guard let path else { return nil }
    var options = ConfigOptions()
    options.config = path
    return try options.load().lab
}

/// The server of a client verb: `--server HOST[:PORT]`, else the lab's `client.server`, else
/// its `server.hostname` (or lab name); the port from `server.port` unless `--server` names one.
func resolveServer(_ option: String?, lab: Lab?) throws -> USBIPServerAddress {
    let defaultPort = lab.map { UInt16(clamping: $0.server.port) } ?? USBIP.defaultPort
    if let option {
        guard let address = USBIPServerAddress(parsing: option, defaultPort: defaultPort) else {
            throw CLIError("--server \(option): expected HOST or HOST:PORT (IPv6: [ADDR]:PORT)")
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

/// A client-library error as the user sees it.
func clientFailure(_ error: USBIPClientError) -> CLIError { CLIError(error.description) }
