import Foundation
import Testing
import TestSupport

/// The refusals, end to end through `fpga-lab flash`: a block device node (mknod) described
/// by a fake sysfs and mount table, and real loop devices where the kernel offers them.
@Suite(.serialized) struct FlashSafetyIntegrationTests {
    /// A fake `sys/class/block/sdz` (major 8, minor 240; partition sdz1 8:241) and mountinfo,
    /// and a node `dev/sdz` for it.
    struct FakeDisk {
        let root: URL
        var node: String { root.appendingPathComponent("dev/sdz").path }
        var sysfs: String { root.appendingPathComponent("sys").path }
        var mountinfo: String { root.appendingPathComponent("mountinfo").path }

        init(sectors: Int, mounts: [String] = []) throws {
            root = try Project.scratch("flash-safety")
            func write(_ relative: String, _ text: String) throws {
                let url = root.appendingPathComponent(relative)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try (text + "\n").write(to: url, atomically: true, encoding: .utf8)
            }
            let disk = "sys/devices/virtual/usb/block/sdz"
            try write("\(disk)/dev", "8:240")
            try write("\(disk)/size", "\(sectors)")
            try write("\(disk)/removable", "1")
            try write("\(disk)/device/model", "Fake Card")
            try write("\(disk)/sdz1/dev", "8:241")
            try write("\(disk)/sdz1/partition", "1")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("sys/class/block"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("sys/class/block/sdz").path,
                                                       withDestinationPath: "../../devices/virtual/usb/block/sdz")
            try write("mountinfo", (["22 1 254:1 / / rw - ext4 /dev/vda1 rw"] + mounts).joined(separator: "\n"))
            try FileManager.default.createDirectory(at: root.appendingPathComponent("dev"), withIntermediateDirectories: true)
            try ProcessRunner.check("mknod", [node, "b", "8", "240"])
        }

        func flash(_ image: String, _ extra: [String] = []) throws -> ProcessRunner.Result {
            try Project.fpgaLab(["flash", image, node, "--sysfs-root", sysfs, "--mountinfo", mountinfo,
                                      "--swaps", "/dev/null", "--root-device", "254:1"] + extra)
        }
    }

    @Test func refusesAMountedFakeDevice() throws {
        try FlashFixture.withImage("flash-safety-image") { dir, image in
            let disk = try FakeDisk(sectors: 1 << 21, mounts: ["40 22 8:241 / /media/card rw - vfat /dev/sdz1 rw"])
            defer { try? FileManager.default.removeItem(at: disk.root) }
            Self.expectRefusal(try disk.flash(image + ".xz", ["--force"]), saying: "fpga-lab: error: refusing to write \(disk.node) (Fake Card, 1.1 GB, removable): it is mounted: /dev/sdz1 on /media/card; unmount first")
        }
    }

    @Test func refusesATooSmallFakeDevice() throws {
        try FlashFixture.withImage("flash-safety-image") { dir, image in
            let disk = try FakeDisk(sectors: 65_536)
            defer { try? FileManager.default.removeItem(at: disk.root) }
            Self.expectRefusal(try disk.flash(image + ".xz"), saying: "it is smaller (33554432 bytes) than the image (67108864 bytes)")
        }
    }

    @Test func refusesTheSystemDisk() throws {
        try FlashFixture.withImage("flash-safety-image") { dir, image in
            let disk = try FakeDisk(sectors: 1 << 21)
            defer { try? FileManager.default.removeItem(at: disk.root) }
            let run = try Project.fpgaLab(["flash", image + ".xz", disk.node, "--sysfs-root", disk.sysfs, "--mountinfo", disk.mountinfo,
                                                "--swaps", "/dev/null", "--root-device", "8:241", "--force"])
            Self.expectRefusal(run, saying: "it holds the running system (/ is on sdz1)")
            let dry = try disk.flash(image + ".xz", ["--dry-run"])
            #expect(dry.status == 0, "\(dry.stderr)")
            #expect(dry.stderr.contains("target: \(disk.node) (Fake Card, 1.1 GB, removable)"), "\(dry.stderr)")
        }
    }

    /// `run` is a refusal: exit status 1, `reason` on stderr.
    static func expectRefusal(_ run: ProcessRunner.Result, saying reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, sourceLocation: sourceLocation)
        #expect(run.stderr.contains(reason), "\(run.stderr)", sourceLocation: sourceLocation)
    }

    static var loopDevices: Bool {
        getuid() == 0 && FileManager.default.fileExists(atPath: "/dev/loop-control")
    }

    /// `body` given a free loop device attached to `file` (first made sparse of `size`, as
    /// `truncate -s` takes it, when one is given); detached afterwards.
    static func withLoopDevice(over file: String, size: String? = nil, _ body: (String) throws -> Void) throws {
        if let size { try ProcessRunner.check("truncate", ["-s", size, file]) }
        let loop = try ProcessRunner.check("losetup", ["-f", "--show", file]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? ProcessRunner.check("losetup", ["-d", loop]) }
        try body(loop)
    }

    @Test(.enabled(if: loopDevices)) func flashesARealLoopDeviceAndRefusesItWhileMounted() throws {
        try FlashFixture.withImage("flash-safety-image") { dir, image in
            let backing = dir.appendingPathComponent("card.img").path
            try Self.withLoopDevice(over: backing, size: "80M") { loop in
                Self.expectRefusal(try Project.fpgaLab(["flash", image + ".xz", loop]), saying: "it is not a removable disk (pass --force if you are sure)")

                let run = try Project.fpgaLab(["flash", image + ".xz", loop, "--force"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout.contains("verified"), "\(run.stdout)")
                #expect(try FlashFixture.sameBytes(backing, image, on: try FlashFixture.mappedRanges(image + ".bmap")))

                let fs = try dir.appendingPathComponent("m").creatingDirectory()
                try ProcessRunner.check("mkfs.ext4", ["-q", "-F", loop])
                try ProcessRunner.check("mount", [loop, fs.path])
                defer { _ = try? ProcessRunner.check("umount", [fs.path]) }
                Self.expectRefusal(try Project.fpgaLab(["flash", image + ".xz", loop, "--force"]), saying: "it is mounted: \(loop) on \(fs.path)")
            }
        }
    }

    @Test(.enabled(if: loopDevices)) func refusesARealLoopDeviceSmallerThanTheImage() throws {
        try FlashFixture.withImage("flash-safety-image") { dir, image in
            let backing = dir.appendingPathComponent("small.img").path
            try Self.withLoopDevice(over: backing, size: "8M") { loop in
                Self.expectRefusal(try Project.fpgaLab(["flash", image + ".xz", loop, "--force"]), saying: "it is smaller (8388608 bytes) than the image (67108864 bytes)")
            }
        }
    }

    /// A loop device over the source image is the source: writing it would overwrite the file
    /// being read, under any name.
    @Test(.enabled(if: loopDevices)) func refusesALoopDeviceOverTheSource() throws {
        try FlashFixture.withImage("flash-safety-image") { dir, image in
            let before = try Project.sha256(image)
            try Self.withLoopDevice(over: image) { loop in
                Self.expectRefusal(try Project.fpgaLab(["flash", image, loop, "--force"]), saying: "is a loop device over \(image), which this flash reads")
                #expect(try Project.sha256(image) == before)
            }
        }
    }
}
