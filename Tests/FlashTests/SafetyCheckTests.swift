import Foundation
import Testing
@testable import Flash

/// A fake system: `sys/class/block/sdx` (8:16, 64 MiB, removable, partitions sdx1 8:17 and
/// sdx2 8:18) shaped like the real tree, a mountinfo and a swaps file.
struct FakeSystem {
    let root: URL
    var removable = true
    var sizeSectors: UInt64 = 131_072

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("flash-sys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    /// Builds the tree; `mounts` are mountinfo lines.
    func view(mounts: [String] = [], swaps: [String] = [], rootDevice: DeviceNumber? = DeviceNumber(major: 254, minor: 1)) throws -> SystemView {
        let disk = "sys/devices/pci0000:00/usb1/1-1/host0/target0:0:0/0:0:0:0/block/sdx"
        try write("\(disk)/dev", "8:16")
        try write("\(disk)/size", "\(sizeSectors)")
        try write("\(disk)/removable", removable ? "1" : "0")
        try write("sys/devices/pci0000:00/usb1/1-1/host0/target0:0:0/0:0:0:0/vendor", "Generic ")
        try write("sys/devices/pci0000:00/usb1/1-1/host0/target0:0:0/0:0:0:0/model", "STORAGE DEVICE  ")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("\(disk)/device").path,
                                                   withDestinationPath: "../../../0:0:0:0")
        for (index, name) in ["sdx1", "sdx2"].enumerated() {
            try write("\(disk)/\(name)/dev", "8:\(17 + index)")
            try write("\(disk)/\(name)/partition", "\(index + 1)")
        }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sys/class/block"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("sys/class/block/sdx").path,
                                                   withDestinationPath: "../../devices/pci0000:00/usb1/1-1/host0/target0:0:0/0:0:0:0/block/sdx")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("sys/class/block/sdx1").path,
                                                   withDestinationPath: "../../devices/pci0000:00/usb1/1-1/host0/target0:0:0/0:0:0:0/block/sdx/sdx1")
        try write("mountinfo", (["22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw"] + mounts).joined(separator: "\n"))
        try write("swaps", (["Filename Type Size Used Priority"] + swaps).joined(separator: "\n"))
        return SystemView(sysfsRoot: root.appendingPathComponent("sys").path, mountInfo: root.appendingPathComponent("mountinfo").path,
                          swaps: root.appendingPathComponent("swaps").path, rootDevice: rootDevice)
    }
}

@Suite struct SafetyCheckTests {
    static let disk = DeviceNumber(major: 8, minor: 16)

    func check(_ fake: FakeSystem, _ view: SystemView, number: DeviceNumber = disk, imageSize: UInt64 = 32 << 20,
               force: Bool = false) throws {
        let device = try BlockDevice(path: "/dev/sdx", number: number, system: view)
        try SafetyCheck.check(device, imageSize: imageSize, force: force, system: view)
    }

    func refusal(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func describesTheDeviceFromSysfs() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        let device = try BlockDevice(path: "/dev/sdx", number: Self.disk, system: try fake.view())
        #expect(device.name == "sdx")
        #expect(device.size == 64 << 20)
        #expect(device.removable)
        #expect(!device.isPartition)
        #expect(device.partitions.map(\.name) == ["sdx1", "sdx2"])
        #expect(device.summary == "/dev/sdx (Generic STORAGE DEVICE, 67.1 MB, removable)")
    }

    @Test func acceptsAnUnmountedRemovableDisk() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        #expect(refusal { try check(fake, try fake.view()) } == "accepted")
    }

    @Test func refusesAMountedPartition() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        let view = try fake.view(mounts: ["40 22 8:18 / /media/card rw - ext4 /dev/sdx2 rw"])
        #expect(refusal { try check(fake, view, force: true) }
            == "refusing to write /dev/sdx (Generic STORAGE DEVICE, 67.1 MB, removable): it is mounted: /dev/sdx2 on /media/card; unmount first")
    }

    @Test func refusesAMountFoundBySourceName() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        let view = try fake.view(mounts: ["40 22 0:44 / /srv rw - btrfs /dev/sdx1 rw"])
        #expect(refusal { try check(fake, view) }.contains("it is mounted: /dev/sdx1 on /srv"))
    }

    @Test func refusesTheSystemDiskEvenWithForce() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        let view = try fake.view(rootDevice: DeviceNumber(major: 8, minor: 17))
        #expect(refusal { try check(fake, view, force: true) }.contains("it holds the running system (/ is on sdx1)"))
    }

    @Test func refusesActiveSwap() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        let view = try fake.view(swaps: ["/dev/sdx2 partition 1024 0 -2"])
        #expect(refusal { try check(fake, view, force: true) }.contains("it holds active swap (sdx2)"))
    }

    @Test func refusesADiskSmallerThanTheImage() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        #expect(refusal { try check(fake, try fake.view(), imageSize: (64 << 20) + 512, force: true) }
            == "refusing to write /dev/sdx (Generic STORAGE DEVICE, 67.1 MB, removable): it is smaller (67108864 bytes) than the image (67109376 bytes)")
    }

    @Test func refusesANonRemovableDiskUnlessForced() throws {
        var fake = try FakeSystem()
        fake.removable = false
        defer { fake.remove() }
        let view = try fake.view()
        #expect(refusal { try check(fake, view) }.hasSuffix("it is not a removable disk (pass --force if you are sure)"))
        #expect(refusal { try check(fake, view, force: true) } == "accepted")
    }

    @Test func refusesAPartitionUnlessForced() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        let view = try fake.view()
        let partition = DeviceNumber(major: 8, minor: 17)
        #expect(refusal { try check(fake, view, number: partition, imageSize: 0) }.contains("it is a partition, not a whole disk"))
        #expect(refusal { try check(fake, view, number: partition, imageSize: 0, force: true) } == "accepted")
    }

    @Test func anUnknownDeviceIsRefused() throws {
        let fake = try FakeSystem()
        defer { fake.remove() }
        #expect(refusal { try check(fake, try fake.view(), number: DeviceNumber(major: 8, minor: 99)) }.contains("8:99 is not in"))
    }
}
