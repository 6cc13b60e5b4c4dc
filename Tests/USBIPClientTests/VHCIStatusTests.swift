import Testing
@testable import USBIPClient

/// Golden status text in the exact format of vhci_sysfs.c (`port_show_vhci`,
/// `status_show_not_ready`), two controllers of 2 ports per hub (VHCI_HC_PORTS=2).
@Suite struct VHCIStatusTests {
    /// The first line of every status file.
    static let header = "hub port sta spd dev      sockfd local_busid\n"

    static let status0 = header + """
        hs  0000 006 003 00010004 000003 3-1
        hs  0001 004 000 00000000 000000 0-0
        ss  0002 006 005 0002000a 000007 4-1
        ss  0003 004 000 00000000 000000 0-0

        """

    static let status1NotReady = header + """
        hs  0004 005 000 00000000 0000000000000000 0-0
        hs  0005 005 000 00000000 0000000000000000 0-0
        ss  0006 005 000 00000000 0000000000000000 0-0
        ss  0007 005 000 00000000 0000000000000000 0-0

        """

    @Test func parsesUsedAndFreePorts() throws {
        let ports = try VHCIPort.parse(Self.status0, file: "status")
        #expect(ports.count == 4)
        #expect(ports[0] == VHCIPort(hub: .high, port: 0, state: 6, speed: 3, devid: 0x0001_0004, sockfd: 3, localBusID: "3-1"))
        #expect(ports[1] == VHCIPort(hub: .high, port: 1, state: 4))
        #expect(ports[2] == VHCIPort(hub: .superSpeed, port: 2, state: 6, speed: 5, devid: 0x0002_000a, sockfd: 7, localBusID: "4-1"))
        #expect(ports.map(\.isFree) == [false, true, false, true])
        #expect(ports.map(\.isInUse) == [true, false, true, false])
    }

    @Test func parsesNotReadyController() throws {
        let ports = try VHCIPort.parse(Self.status1NotReady, file: "status.1")
        #expect(ports.map(\.port) == [4, 5, 6, 7])
        #expect(ports.map(\.hub) == [.high, .high, .superSpeed, .superSpeed])
        #expect(ports.allSatisfy { !$0.isFree && !$0.isInUse })
    }

    @Test func rejectsGarbage() {
        #expect(throws: USBIPClientError.badStatus(file: "status", line: "xx  0000 004")) {
            try VHCIPort.parse(Self.header + "xx  0000 004\n", file: "status")
        }
        #expect(throws: USBIPClientError.self) {
            try VHCIPort.parse("hs  0000 004 000 zzzzzzzz 000000 0-0\n", file: "status")
        }
    }

    @Test func readsEveryControllerOfTheTree() throws {
        let tree = try FakeVHCI(controllers: 2, hcPorts: 2)
        defer { tree.remove() }
        try tree.write("status", Self.status0)
        try tree.write("status.1", Self.status1NotReady)
        let driver = VHCIDriver(sysfsRoot: tree.root)
        let ports = try driver.ports()
        #expect(ports.map(\.port) == Array(0..<8))
        #expect(try driver.portCount() == 8)
        #expect(ports.filter(\.isInUse).map(\.localBusID) == ["3-1", "4-1"])
    }

    @Test func statusFilesInOtherControllerDirectoriesCount() throws {
        let tree = try FakeVHCI(controllers: 2, hcPorts: 2)
        defer { tree.remove() }
        try tree.write("status", Self.status0)
        try tree.write("status.1", Self.header)
        try Self.status1NotReady.write(toFile: tree.root + "/devices/platform/vhci_hcd.1/status.1", atomically: true, encoding: .utf8)
        #expect(try VHCIDriver(sysfsRoot: tree.root).ports().map(\.port) == Array(0..<8))
    }

    @Test func hubBySpeed() {
        #expect([1, 2, 3, 4].map { VHCIHub(speed: $0) } == [.high, .high, .high, .high])
        #expect([5, 6].map { VHCIHub(speed: $0) } == [.superSpeed, .superSpeed])
    }
}
