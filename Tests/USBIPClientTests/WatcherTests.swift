import Foundation
import LabConfig
import Testing
@testable import USBIPClient

/// The watcher against a fake vhci tree, with a server nobody listens on: only the loss
/// detection runs (no board is due for an attach while it is attached).
@Suite struct WatcherTests {
    /// Rewrites `port`'s line of vhci_hcd.0's status with state `state` and no device, as
    /// vhci_sysfs.c prints a port that is not USED.
    private func set(_ tree: FakeVHCI, port: Int, state: Int) throws {
        let lines = tree.read("status").split(separator: "\n").map { line -> String in
            guard line.dropFirst(2).hasPrefix(String(format: "  %04ld ", port)) else { return String(line) }
            return String(line.prefix(2)) + String(format: "  %04ld %03ld 000 00000000 000000 0-0", port, state)
        }
        try tree.write("status", lines.joined(separator: "\n") + "\n")
    }

    @Test func aPortStillEnumeratingIsNotLostButAFreedOneIs() throws {
        let tree = try FakeVHCI(controllers: 1, hcPorts: 2)
        defer { tree.remove() }
        let records = PortRecords(directory: tree.root + "/run")
        let server = USBIPServerAddress(host: "127.0.0.1", port: 1)
        try records.save(.init(port: 0, host: server.host, tcpPort: server.port, busID: "1-1", vendor: 0x0403, product: 0x6001))
        try tree.markUsed(0, speed: 2, devid: 0x0001_0002, sockfd: 3, busID: "3-1")
        var lines: [String] = []
        let watcher = Watcher(client: USBIPClient(vhci: VHCIDriver(sysfsRoot: tree.root), records: records, timeout: 1),
                              server: server,
                              boards: [Device(name: "ftdi-a", id: USBID(vendor: "0403", product: "6001")!)],
                              now: { 0 }, log: { lines.append($0) })
        watcher.step()
        #expect(lines == ["ftdi-a: already attached (1-1 on vhci port 0)"])

        // After a (re-)attach the kernel prints the port as 005 (VDEV_ST_NOTASSIGNED) until
        // the device has an address: the board is still there.
        try set(tree, port: 0, state: 5)
        watcher.step()
        #expect(lines.count == 1, "\(lines)")
        #expect(records.load(port: 0)?.busID == "1-1")

        // 004 (VDEV_ST_NULL): the connection is gone; the record goes, a re-attach is tried.
        try set(tree, port: 0, state: 4)
        watcher.step()
        #expect(lines.dropFirst().first == "ftdi-a: lost (port 0, 1-1), re-attaching")
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.last?.hasPrefix("ftdi-a: 127.0.0.1:1: ") == true, "\(lines)")
        #expect(lines.last?.hasSuffix("; retry in 1 s") == true, "\(lines)")
        #expect(records.load(port: 0) == nil)
    }
}
