import Foundation
import Testing
import TestSupport

/// `fpga-lab build-image` on stand-in bases made by the real mkfs tools in the layout of stock
/// Raspberry Pi OS images, every output checked with the real tools.
@Suite(.serialized) struct BuildImageIntegrationTests {
    /// A small stand-in base (scripts/make-standin-base.sh: sfdisk, mkfs.vfat, mkfs.ext4 -d).
    static func makeBase(in dir: URL, arch: String = "x86_64", extra: [String] = []) throws -> String {
        let path = dir.appendingPathComponent("base-\(arch).img").path
        try ProcessRunner.check(Project.root.appendingPathComponent("scripts/make-standin-base.sh").path,
                          ["--small", path, "--arch", arch, "--cache", dir.appendingPathComponent("cache").path] + extra,
                          environment: ["SOURCE_DATE_EPOCH": "1731974400"])
        return path
    }

    struct Layout {
        var bootOffset: UInt64
        var bootSize: UInt64
        var rootOffset: UInt64
    }

    static func layout(_ image: String) throws -> Layout {
        let json = try ProcessRunner.check("sfdisk", ["--json", image]).stdout
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let parts = (object["partitiontable"] as! [String: Any])["partitions"] as! [[String: Any]]
        func number(_ part: [String: Any], _ key: String) -> UInt64 { UInt64(part[key] as! Int) * 512 }
        return Layout(bootOffset: number(parts[0], "start"), bootSize: number(parts[0], "size"), rootOffset: number(parts[1], "start"))
    }

    /// Copies a partition out (the tools want a file that is just the filesystem).
    static func extract(_ image: String, offset: UInt64, size: UInt64?, to path: String) throws {
        var args = ["if=\(image)", "of=\(path)", "bs=512", "skip=\(offset / 512)", "status=none"]
        if let size { args.append("count=\(size / 512)") }
        try ProcessRunner.check("dd", args)
    }

    /// fsck.fat and e2fsck both report a clean filesystem; returns the rootfs copy for debugfs.
    static func expectClean(_ image: String, in dir: URL) throws -> String {
        let layout = try layout(image)
        let boot = dir.appendingPathComponent("boot.fs").path, root = dir.appendingPathComponent("root.fs").path
        try extract(image, offset: layout.bootOffset, size: layout.bootSize, to: boot)
        try extract(image, offset: layout.rootOffset, size: nil, to: root)
        let fat = try ProcessRunner.run("fsck.fat", ["-n", boot])
        #expect(fat.status == 0, "\(fat.stdout)\(fat.stderr)")
        #expect(!fat.stdout.contains("differ") && !fat.stdout.contains("Free cluster summary"), "\(fat.stdout)")
        let ext = try ProcessRunner.run("e2fsck", ["-fn", root])
        #expect(ext.status == 0, "\(ext.stdout)\(ext.stderr)")
        return root
    }

    @Test(arguments: ["x86_64", "aarch64"])
    func patchedImageIsCleanAndComplete(arch: String) throws {
        let dir = try Project.scratch("build-image")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.makeBase(in: dir, arch: arch)
        let baseSum = try Project.sha256(base)
        let tableBefore = try ProcessRunner.check("sfdisk", ["-d", base]).stdout.replacingOccurrences(of: base, with: "IMG")

        let result = try Project.buildImage(base: base, output: "out/pi.img", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let image = dir.appendingPathComponent("out/pi.img").path
        #expect(try Project.sha256(base) == baseSum, "the base never changes")
        #expect(try ProcessRunner.check("sfdisk", ["-d", image]).stdout.replacingOccurrences(of: image, with: "IMG") == tableBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).sorted()
                == ["SHA256SUMS", "pi.img", "pi.img.bmap"])
        try ProcessRunner.check("sha256sum", ["-c", "SHA256SUMS"], in: dir.appendingPathComponent("out"))

        let root = try Self.expectClean(image, in: dir)
        let rules = try Ext4Tools.debugfs(root, "stat /etc/udev/rules.d/90-fpga-lab.rules")
        #expect(rules.contains("Mode:  0644") && rules.contains("User:     0   Group:     0"))
        #expect(rules.contains("mtime: 0x6553f100"), "mtime is SOURCE_DATE_EPOCH")
        let link = try Ext4Tools.debugfs(root, "stat /etc/systemd/system/multi-user.target.wants/usbip-binder.service")
        #expect(link.contains("Fast link dest: \"/etc/systemd/system/usbip-binder.service\""))
        // The binder built for the image's architecture (make binder) is baked in.
        let binder = try Ext4Tools.debugfs(root, "stat /usr/local/sbin/usbip-binder")
        #expect(binder.contains("Mode:  0755"), "\(binder)")
        let built = Project.root.appendingPathComponent("build/binder/\(arch == "x86_64" ? "x86_64" : "aarch64")/usbip-binder").path
        let size = try FileManager.default.attributesOfItem(atPath: built)[.size] as! Int
        #expect(binder.contains("Size: \(size)"), "the binder for \(arch)")
        #expect(result.stderr == "", "no warning: \(result.stderr)")
        #expect(try Ext4Tools.debugfs(root, "cat /etc/hostname") == "fpga-pi-01\n")
        #expect(try Ext4Tools.debugfs(root, "cat /etc/hosts").contains("127.0.1.1\tfpga-pi-01\n"))
        #expect(try Ext4Tools.debugfs(root, "cat /etc/fpga-lab/manifest").hasPrefix("fpga-lab-manifest 1\n"))
        let etc = try Ext4Tools.debugfs(root, "stat /etc")
        #expect(!etc.contains("mtime: 0x6553f100"), "existing directories keep their times")

        let layout = try Self.layout(image)
        let config = try ProcessRunner.check("mtype", ["-i", "\(image)@@\(layout.bootOffset)", "::config.txt"]).stdout
        #expect(config.hasSuffix("[pi3+]\ndtoverlay=dwc2,dr_mode=host\n[all]\n"))
        #expect(config.contains("[cm5]\ndtoverlay=dwc2,dr_mode=host\n"), "the stock text is kept")
        let cmdline = try ProcessRunner.check("mtype", ["-i", "\(image)@@\(layout.bootOffset)", "::cmdline.txt"]).stdout
        #expect(cmdline.hasSuffix(" rootwait modules-load=dwc2\n"))
        #expect(result.stdout.contains("\(arch == "x86_64" ? "amd64" : "arm64") image"))
    }

    /// An output name holding a line feed and a backslash is escaped in SHA256SUMS as GNU
    /// sha256sum escapes it (it was written raw, and `sha256sum -c` failed).
    @Test func oddOutputNamesPassSha256sumCheck() throws {
        let dir = try Project.scratch("odd-names")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.makeBase(in: dir)
        let result = try Project.buildImage(base: base, output: "out/lab\n1\\a.img", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let check = try ProcessRunner.run("sha256sum", ["-c", "--strict", "SHA256SUMS"], in: dir.appendingPathComponent("out"))
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.components(separatedBy: ": OK").count == 3, "\(check.stdout)")
    }

    @Test func bmapCopyReproducesTheImage() throws {
        let dir = try Project.scratch("bmap")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.makeBase(in: dir)
        try Project.buildImage(base: base, output: "pi.img", in: dir)
        let target = dir.appendingPathComponent("target.img").path
        try ProcessRunner.check("bmaptool", ["copy", "--bmap", "pi.img.bmap", "pi.img", target], in: dir)
        // Every block outside the bmap is zero in the image, so the copy equals it byte for byte.
        #expect(try Project.sha256(target) == Project.sha256(dir.appendingPathComponent("pi.img").path))
        _ = try Self.expectClean(target, in: dir)
    }

    /// With SOURCE_DATE_EPOCH set, and unset (time 0), two builds a second apart are identical.
    @Test(arguments: ["1700000000", ""])
    func sameInputsGiveSameBytes(epoch: String) throws {
        let dir = try Project.scratch("determinism")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.makeBase(in: dir)
        try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", base, "--output", "a/pi.img"], in: dir, epoch: epoch)
        try Wait.forTheNextSecond()
        try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", base, "--output", "b/pi.img"], in: dir, epoch: epoch)
        for name in ["pi.img", "pi.img.bmap", "SHA256SUMS"] {
            #expect(try Project.sha256(dir.appendingPathComponent("a/\(name)").path)
                    == Project.sha256(dir.appendingPathComponent("b/\(name)").path), "\(name)")
        }
    }

    @Test(arguments: ["xz", "gz", "zst", "zip"])
    func compressedBasesAndOutputs(kind: String) throws {
        let dir = try Project.scratch("compressed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = try Self.makeBase(in: dir)
        let base: String
        switch kind {
        case "xz": try ProcessRunner.check("xz", ["-k", "-T1", raw]); base = raw + ".xz"
        case "gz": try ProcessRunner.check("gzip", ["-k", raw]); base = raw + ".gz"
        case "zst": try ProcessRunner.check("zstd", ["-q", "-k", raw]); base = raw + ".zst"
        default:
            try ProcessRunner.check("zip", ["-q", "-j", "base.zip", raw], in: dir)
            base = dir.appendingPathComponent("base.zip").path
        }
        try Project.buildImage(base: raw, output: "plain/pi.img", in: dir)
        let out = "pi.img.\(kind == "zip" ? "xz" : kind)"
        let result = try Project.buildImage(base: base, output: "packed/\(out)", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let unpacked = dir.appendingPathComponent("unpacked.img").path
        let tool = ["xz": "xz", "gz": "gzip", "zst": "zstd", "zip": "xz"][kind]!
        let data = try ProcessRunner.check("sh", ["-c", "\(tool) -dc packed/\(out) > \(unpacked)"], in: dir).stdout
        #expect(data == "")
        #expect(try Project.sha256(unpacked) == Project.sha256(dir.appendingPathComponent("plain/pi.img").path))
        try ProcessRunner.check("sha256sum", ["-c", "SHA256SUMS"], in: dir.appendingPathComponent("packed"))
        if tool == "xz" {
            // xz's own view of the stream: CRC64, every block 8 MiB of input but the last.
            let list = try ProcessRunner.check("xz", ["--robot", "--list", "-vv", "packed/\(out)"], in: dir).stdout
            let blocks = list.split(separator: "\n").filter { $0.hasPrefix("block\t") }.map { $0.split(separator: "\t") }
            #expect(!blocks.isEmpty, "\(list)")
            #expect(blocks.dropLast().allSatisfy { $0[7] == "8388608" }, "\(list)")
            #expect(blocks.allSatisfy { $0[9] == "CRC64" }, "\(list)")
        }
        let inspected = try Project.fpgaLab(["inspect", "packed/\(out)"], in: dir)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("  pi3+ cm5:\n"), "the pi3+ now sees the stock [cm5] line's twin")
        #expect(inspected.stdout.contains("manifest (/etc/fpga-lab/manifest):\nfpga-lab-manifest 1\n"))
        #expect(inspected.stdout.contains("architecture: amd64"))
    }

    @Test func fat32BaseWithLargerBootfs() throws {
        let dir = try Project.scratch("fat32")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.makeBase(in: dir, extra: ["--fat", "32", "--boot-mib", "256"])
        let result = try Project.buildImage(base: base, output: "pi.img", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("bootfs fat32"))
        _ = try Self.expectClean(dir.appendingPathComponent("pi.img").path, in: dir)
    }
}
