import Foundation
import LabConfig
import USBIPWire

/// Keeps a set of boards attached: every ``step()`` checks the vhci ports, notices boards that
/// went away (server dropped the connection, board replugged or re-enumerated, network gone),
/// and attaches missing ones again, each with its own backoff (1 s doubling to 30 s).
///
/// ```
///            attach ok                    port free again
///  missing ───────────► attached(busid, port) ──────────► missing (retry now)
///     ▲  │ fails
///     └──┘ wait 1, 2, 4 ... 30 s
/// ```
/// A board is found in the server's device list by any of its IDs (`also:` included), so a
/// board that re-enumerates with its other ID after a firmware load is followed.
public final class Watcher {
    public let client: USBIPClient
    public let server: USBIPServerAddress
    public let boards: [Device]
    /// Backoff bounds, seconds.
    public let firstDelay: Double
    public let maxDelay: Double

    struct State {
        var attachedPort: Int?
        var busID: String?
        var delay: Double
        var nextAttempt: Double
    }

    private var states: [String: State] = [:]
    private let now: () -> Double
    private let log: (String) -> Void

    public init(client: USBIPClient, server: USBIPServerAddress, boards: [Device],
                firstDelay: Double = 1, maxDelay: Double = 30,
                now: @escaping () -> Double = { Date().timeIntervalSince1970 },
                log: @escaping (String) -> Void) {
        self.client = client
        self.server = server
        self.boards = boards
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.now = now
        self.log = log
        for board in boards { states[board.name] = State(delay: firstDelay, nextAttempt: 0) }
    }

    /// One round: notice losses, then attach what is missing and due.
    public func step() {
        let ports: [VHCIPort]
        do {
            ports = try client.vhci.ports()
        } catch {
            log("vhci: \(error)")
            return
        }
        let inUse = Dictionary(ports.filter(\.isInUse).map { ($0.port, $0) }, uniquingKeysWith: { a, _ in a })
        // vhci_hcd shows a port it just attached as VDEV_ST_NOTASSIGNED until the device's
        // SET_ADDRESS makes it USED (hundreds of ms on a loaded machine): our port in that
        // state is still being enumerated, not lost.
        let enumerating = Set(ports.filter { $0.state == VHCIPortState.notAssigned.rawValue }.map(\.port))
        adopt(inUse)
        for board in boards {
            guard let port = states[board.name]?.attachedPort else { continue }
            if (inUse[port] == nil && !enumerating.contains(port))
                || client.records.load(port: port)?.busID != states[board.name]?.busID {
                log("\(board.name): lost (port \(port), \(states[board.name]?.busID ?? "?")), re-attaching")
                client.records.remove(port: port)
                states[board.name] = State(delay: firstDelay, nextAttempt: 0)
            }
        }
        let due = boards.filter { states[$0.name]?.attachedPort == nil && states[$0.name]!.nextAttempt <= now() }
        guard !due.isEmpty else { return }
        let exported: [USBIPExportedDevice]
        do {
            exported = try USBIPRequests.devlist(server, timeout: client.timeout)
        } catch {
            for board in due { failed(board, "\(server): \(error)") }
            return
        }
        var taken = Set(states.values.compactMap(\.busID))
        for board in due {
            guard let match = exported.first(where: { board.matches($0.device) && !taken.contains($0.device.busID) }) else {
                failed(board, "not exported by \(server)")
                continue
            }
            do {
                let a = try client.attach(busID: match.device.busID, from: server)
                states[board.name] = State(attachedPort: a.port, busID: a.busID, delay: firstDelay, nextAttempt: 0)
                taken.insert(a.busID)
                log("\(board.name): attached \(a.busID) (\(USBIP.hex(UInt32(a.device.idVendor), width: 4)):\(USBIP.hex(UInt32(a.device.idProduct), width: 4))) on vhci port \(a.port)")
            } catch {
                failed(board, "\(match.device.busID): \(error)")
            }
        }
    }

    /// Ports this server's boards already sit on (attached before the watch started): the
    /// record's busid and IDs match the board.
    private func adopt(_ inUse: [Int: VHCIPort]) {
        let known = Set(states.values.compactMap(\.attachedPort))
        for (port, _) in inUse.sorted(by: { $0.key < $1.key }) where !known.contains(port) {
            guard let record = client.records.load(port: port), record.host == server.host,
                  record.tcpPort == server.port else { continue }
            guard let board = boards.first(where: { states[$0.name]?.attachedPort == nil && $0.matches(record) })
            else { continue }
            states[board.name] = State(attachedPort: port, busID: record.busID, delay: firstDelay, nextAttempt: 0)
            log("\(board.name): already attached (\(record.busID) on vhci port \(port))")
        }
    }

    private func failed(_ board: Device, _ reason: String) {
        var s = states[board.name]!
        log("\(board.name): \(reason); retry in \(Int(s.delay)) s")
        s.nextAttempt = now() + s.delay
        s.delay = min(s.delay * 2, maxDelay)
        states[board.name] = s
    }

    /// Runs ``step()`` every `interval` seconds until `stop()` says so.
    public func run(interval: Double = 1, stop: () -> Bool) {
        while !stop() {
            step()
            let end = now() + interval
            while !stop() && now() < end { usleep(50_000) }
        }
    }
}
