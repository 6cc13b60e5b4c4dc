import Foundation
import Testing
@testable import Flash

@Suite struct SystemViewTests {
    @Test func deviceNumbers() {
        #expect(DeviceNumber("8:16") == DeviceNumber(major: 8, minor: 16))
        #expect(DeviceNumber(" 259:3\n") == DeviceNumber(major: 259, minor: 3))
        #expect(DeviceNumber("8") == nil)
        #expect(DeviceNumber("a:b") == nil)
        // glibc's makedev(8, 17) and makedev(259, 300): minor bits above 0xff move to bits 20+.
        #expect(DeviceNumber(UInt64(0x811)) == DeviceNumber(major: 8, minor: 17))
        #expect(DeviceNumber(UInt64(0x1032c)) == DeviceNumber(major: 259, minor: 44))
        #expect(DeviceNumber(UInt64(0x11032c)) == DeviceNumber(major: 259, minor: 300))
    }

    @Test func parsesMountinfoWithOptionalFieldsAndEscapes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flash-mi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let info = dir.appendingPathComponent("mountinfo").path
        try """
        22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
        40 22 8:17 / /media/my\\040card rw shared:2 master:3 - vfat /dev/sdb1 rw
        41 22 0:5 / /proc rw - proc proc rw

        """.write(toFile: info, atomically: true, encoding: .utf8)
        let mounts = SystemView(mountInfo: info, rootDevice: nil).mounts()
        #expect(mounts == [
            .init(device: DeviceNumber(major: 254, minor: 1), mountPoint: "/", source: "/dev/vda1"),
            .init(device: DeviceNumber(major: 8, minor: 17), mountPoint: "/media/my card", source: "/dev/sdb1"),
            .init(device: DeviceNumber(major: 0, minor: 5), mountPoint: "/proc", source: "proc"),
        ])
    }
}
