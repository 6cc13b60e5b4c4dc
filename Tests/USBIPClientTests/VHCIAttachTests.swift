import Foundation
import Testing
@testable import USBIPClient

@Suite struct VHCIAttachTests {
    @Test func highSpeedDeviceTakesFirstFreeHSPort() throws {
        let tree = try FakeVHCI(controllers: 2, hcPorts: 2)
        defer { tree.remove() }
        let driver = VHCIDriver(sysfsRoot: tree.root)
        #expect(try driver.attach(sockfd: 5, devid: 0x0001_0003, speed: 3) == 0)
        #expect(tree.read("attach") == "0 5 65539 3")
        try tree.markUsed(0, speed: 3, devid: 0x0001_0003, sockfd: 5, busID: "3-1")
        #expect(try driver.attach(sockfd: 6, devid: 0x0001_0004, speed: 2) == 1)
        try tree.markUsed(1, speed: 2, devid: 0x0001_0004, sockfd: 6, busID: "3-2")
        // The first controller's hs hub is full: the next is port 4 on vhci_hcd.1.
        #expect(try driver.attach(sockfd: 7, devid: 0x0001_0005, speed: 1) == 4)
        #expect(tree.read("attach") == "4 7 65541 1")
    }

    @Test func superSpeedDeviceTakesSSPort() throws {
        let tree = try FakeVHCI(controllers: 2, hcPorts: 2)
        defer { tree.remove() }
        let driver = VHCIDriver(sysfsRoot: tree.root)
        #expect(try driver.attach(sockfd: 9, devid: 0x0002_0002, speed: 5) == 2)
        try tree.markUsed(2, speed: 5, devid: 0x0002_0002, sockfd: 9, busID: "4-1")
        #expect(try driver.attach(sockfd: 10, devid: 0x0002_0003, speed: 5) == 3)
        try tree.markUsed(3, speed: 5, devid: 0x0002_0003, sockfd: 10, busID: "4-2")
        #expect(try driver.attach(sockfd: 11, devid: 0x0002_0004, speed: 6) == 6)
    }

    @Test func busyPortIsSkipped() throws {
        let tree = try FakeVHCI(controllers: 2, hcPorts: 2)
        defer { tree.remove() }
        let driver = VHCIDriver(sysfsRoot: tree.root, sysfs: BusySysfs(busyPorts: [0, 1]))
        #expect(try driver.attach(sockfd: 5, devid: 0x0001_0003, speed: 3) == 4)
        #expect(tree.read("attach") == "4 5 65539 3")
    }

    @Test func allPortsBusyIsNoFreePort() throws {
        let tree = try FakeVHCI(controllers: 1, hcPorts: 2)
        defer { tree.remove() }
        let driver = VHCIDriver(sysfsRoot: tree.root, sysfs: BusySysfs(busyPorts: [2, 3]))
        #expect(throws: USBIPClientError.noFreePort(hub: .superSpeed)) {
            try driver.attach(sockfd: 5, devid: 1, speed: 5)
        }
        #expect(tree.read("attach") == "")
    }

    @Test func detachWritesThePortNumber() throws {
        let tree = try FakeVHCI(controllers: 2, hcPorts: 2)
        defer { tree.remove() }
        try VHCIDriver(sysfsRoot: tree.root).detach(port: 6)
        #expect(tree.read("detach") == "6")
    }

    @Test func missingControllerSaysLoadTheModule() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("novhci-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/devices/platform", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let driver = VHCIDriver(sysfsRoot: root)
        #expect(throws: USBIPClientError.noVHCI("no vhci_hcd controller under \(root)/devices/platform: load the vhci-hcd module (modprobe vhci-hcd)")) {
            try driver.ensureLoaded()
        }
    }

    @Test func deviceNodesOfTheAttachedDevice() throws {
        let tree = try FakeVHCI(controllers: 1, hcPorts: 2)
        defer { tree.remove() }
        let fm = FileManager.default
        let dev = tree.host + "/usb3/3-1"
        try fm.createDirectory(atPath: dev + "/3-1:1.0/ttyUSB0/tty/ttyUSB0", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dev + "/3-1:1.1/ttyUSB1/tty/ttyUSB1", withIntermediateDirectories: true)
        try "MAJOR=189\nMINOR=257\nDEVNAME=bus/usb/003/002\nDEVTYPE=usb_device\n".write(toFile: dev + "/uevent", atomically: true, encoding: .utf8)
        try "DEVTYPE=usb_interface\n".write(toFile: dev + "/3-1:1.0/uevent", atomically: true, encoding: .utf8)
        try "MAJOR=188\nMINOR=0\nDEVNAME=ttyUSB0\n".write(toFile: dev + "/3-1:1.0/ttyUSB0/tty/ttyUSB0/uevent", atomically: true, encoding: .utf8)
        try "MAJOR=188\nMINOR=1\nDEVNAME=ttyUSB1\n".write(toFile: dev + "/3-1:1.1/ttyUSB1/tty/ttyUSB1/uevent", atomically: true, encoding: .utf8)
        try fm.createDirectory(atPath: tree.root + "/bus/usb/devices", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: tree.root + "/bus/usb/devices/3-1", withDestinationPath: "../../../devices/platform/vhci_hcd.0/usb3/3-1")
        #expect(VHCIDriver(sysfsRoot: tree.root).deviceNodes(localBusID: "3-1") == ["ttyUSB0", "ttyUSB1"])
        #expect(VHCIDriver(sysfsRoot: tree.root).deviceNodes(localBusID: "3-9") == [])
    }
}
