import ArgumentParser
import Foundation
import LabConfig
import USBIPClient
import USBIPWire

/// `fpga-lab attach NAME... | --all --config lab.yaml [--server HOST]`: import boards.
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Attach lab boards from their USB/IP server to this machine's vhci ports.",
        discussion: "Boards are found in the server's device list by vendor:product (also: IDs included) and port:. Needs root (vhci sysfs) and the vhci-hcd module, loaded when missing."
    )

    @Argument(help: "Board names from the lab config.")
    var names: [String] = []

    @Flag(name: .long, help: "Every board of the lab config.")
    var all = false

    @OptionGroup var config: ConfigOptions

    @OptionGroup var server: ServerOptions

    @OptionGroup var client: ClientOptions

    func validate() throws {
        if all == !names.isEmpty { throw ValidationError("give board names or --all (not both)") }
    }

    func run() throws {
        let lab = try config.load().lab
        let boards = try selectBoards(names, all: all, in: lab)
        let address = try server.address(lab: lab)
        let usbip = try client.loadedClient(lab: lab)
        let attached = try usbip.attached()
        let exported = try USBIPRequests.devlist(address, timeout: client.timeout)
        var failures = 0
        var taken = Set(attached.compactMap { $0.record?.host == address.host ? $0.record?.busID : nil })
        for board in boards {
            if let a = attached.first(where: { $0.record.map { board.matches($0) } == true && $0.record?.host == address.host }) {
                Console.output("\(board.name): already attached on vhci port \(a.port.port)")
                continue
            }
            guard let match = exported.first(where: { board.matches($0.device) && !taken.contains($0.device.busID) }) else {
                Console.failure("\(board.name): not exported by \(address) (no \(board.ids.map(\.description).joined(separator: " or "))\(board.port.map { " on \($0)" } ?? ""))")
                failures += 1
                continue
            }
            do {
                let a = try usbip.attach(busID: match.device.busID, from: address)
                taken.insert(a.busID)
                Console.output("\(board.name): attached \(a.busID) (\(hex4(a.device.idVendor)):\(hex4(a.device.idProduct))) on vhci port \(a.port)")
            } catch .refused(_, let status) where status == USBIPStatus.deviceBusy.rawValue || status == USBIPStatus.notAvailable.rawValue {
                // Who holds it, when the server tells (usbip-binder's holders request).
                let holder = ((try? USBIPRequests.holders(address, timeout: client.timeout)) ?? nil)?.first { $0.busID == match.device.busID }
                let who = holder.map(holderText) ?? "in use (the server does not say by whom)"
                Console.failure("\(board.name): \(match.device.busID) on \(address) is \(who); detach it there first")
                failures += 1
            } catch {
                Console.failure("\(board.name): \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }
}

/// The boards named on the command line (all of them with --all); unknown names are an error.
func selectBoards(_ names: [String], all: Bool, in lab: Lab) throws -> [Device] {
    if all { return lab.devices }
    let unknown = names.filter { n in !lab.devices.contains { $0.name == n } }
    guard unknown.isEmpty else {
        throw CLIError("no board \(unknown.joined(separator: ", ")) in the lab (boards: \(lab.devices.map(\.name).joined(separator: ", ")))")
    }
    return names.map { n in lab.devices.first { $0.name == n }! }
}
