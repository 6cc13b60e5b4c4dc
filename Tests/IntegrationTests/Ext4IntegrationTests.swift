import ImageInspect
import DiskFormats
import Ext4FS
import ImageBuild
import Foundation
import Testing
import TestSupport

/// The feature matrix: Debian 12's `mkfs.ext4` defaults (1 KiB blocks at this size),
/// Raspberry Pi OS's `^64bit,^huge_file`, and the newer `metadata_csum_seed` and
/// `orphan_file`.
let ext4Variants: [[String]] = [
    [],
    ["-b", "4096", "-O", "^64bit,^huge_file"],
    ["-b", "4096", "-O", "metadata_csum_seed"],
    ["-b", "4096", "-O", "orphan_file"],
]

/// 2023-11-14 22:13:20 UTC.
let fixedTime: Int64 = 1_700_000_000

/// The patch the tests apply: parents missing, a path through `lib -> usr/lib`,
/// fast and slow symlinks, a multi-block file, replaced stock files (one of two
/// hard links among them) and an empty file.
func applyPatch(_ volume: Ext4Volume) throws {
    try volume.makeDirectory("etc/fpga-lab", mode: 0o750, uid: 0, gid: 4, mtime: fixedTime)
    try volume.writeFile("etc/fpga-lab/binder.conf", bytes: Array("port 3240\n".utf8), mode: 0o640, uid: 1000, gid: 1001, mtime: fixedTime)
    try volume.writeFile("lib/systemd/system/usbip-bind@.service", bytes: Array("[Unit]\nDescription=bind %I\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
    try volume.makeSymlink("etc/systemd/system/multi-user.target.wants/usbip-binder.service",
                           target: "/etc/systemd/system/usbip-binder.service", uid: 0, gid: 0, mtime: fixedTime)
    try volume.makeSymlink("etc/long-link", target: "/" + String(repeating: "d/", count: 100) + "end", uid: 0, gid: 0, mtime: fixedTime)
    try volume.writeFile("usr/local/sbin/usbip-binder", bytes: (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }, mode: 0o755, uid: 0, gid: 0, mtime: fixedTime)
    try volume.writeFile("etc/hostname", bytes: Array("fpga-pi-01\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
    try volume.writeFile("etc/big.bin", bytes: Array("small now\n".utf8), mode: 0o600, uid: 0, gid: 0, mtime: fixedTime)
    try volume.writeFile("etc/hard-a", bytes: Array("own\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
    try volume.writeFile("etc/fpga-lab/empty", bytes: [], mode: 0o600, uid: 0, gid: 0, mtime: fixedTime)
}

@Suite(.serialized) struct Ext4IntegrationTests {
    @Test(arguments: ext4Variants)
    func patchedRootfsIsCleanAndExact(mkfsOptions: [String]) throws {
        let dir = try Project.scratch("ext4")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: mkfsOptions)
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        try applyPatch(volume)
        try volume.close()

        let fs = dir.appendingPathComponent("check.ext4").path
        try Ext4Tools.extractPartition(image, to: fs)
        let fsck = try ProcessRunner.run("e2fsck", ["-fn", fs])
        #expect(fsck.status == 0, "e2fsck -fn: \(fsck.stdout)\(fsck.stderr)")

        let conf = Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /etc/fpga-lab/binder.conf"))
        #expect(conf.contains("Type: regular Mode: 0640"))
        #expect(conf.contains("User: 1000 Group: 1001"))
        #expect(conf.contains("Size: 10"))
        for field in ["ctime", "atime", "mtime", "crtime"] {
            #expect(conf.contains("\(field): 0x6553f100:00000000"), "\(field) in \(conf)")
        }
        let dirStat = Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /etc/fpga-lab"))
        #expect(dirStat.contains("Type: directory Mode: 0750"))
        #expect(dirStat.contains("User: 0 Group: 4"))

        #expect(try Ext4Tools.debugfs(fs, "cat /etc/fpga-lab/binder.conf") == "port 3240\n")
        #expect(try Ext4Tools.debugfs(fs, "cat /usr/lib/systemd/system/usbip-bind@.service") == "[Unit]\nDescription=bind %I\n")
        #expect(Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /lib")).contains("Type: symlink"))
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/hostname") == "fpga-pi-01\n")
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/big.bin") == "small now\n")
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/hard-a") == "own\n")
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/hard-b") == "shared\n")
        #expect(Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /etc/hard-b")).contains("Links: 1"))
        #expect(Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /etc/fpga-lab/empty")).contains("Size: 0"))

        let fast = try Ext4Tools.debugfs(fs, "stat /etc/systemd/system/multi-user.target.wants/usbip-binder.service")
        #expect(fast.contains("Fast link dest: \"/etc/systemd/system/usbip-binder.service\""))
        let long = "/" + String(repeating: "d/", count: 100) + "end"
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/long-link") == long)
        #expect(Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /etc/long-link")).contains("Size: \(long.utf8.count)"))

        let binary = dir.appendingPathComponent("binder.out").path
        try ProcessRunner.check("debugfs", ["-R", "dump /usr/local/sbin/usbip-binder \(binary)", fs])
        #expect(try Data(contentsOf: URL(fileURLWithPath: binary)) == Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        let sbin = Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /usr/local/sbin"))
        #expect(sbin.contains("Type: directory Mode: 0755"))
        #expect(sbin.contains("User: 0 Group: 0"))

        let reopened = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: false)
        #expect(try reopened.readFile("lib/systemd/system/usbip-bind@.service") == Array("[Unit]\nDescription=bind %I\n".utf8))
        #expect(try reopened.lookup("etc/long-link")?.symlinkTarget == long)
        let entry = try #require(try reopened.lookup("etc/fpga-lab/binder.conf"))
        #expect(entry.kind == .regular && entry.mode == 0o640 && entry.uid == 1000 && entry.gid == 1001 && entry.mtime == fixedTime)
        #expect(try reopened.readFile("etc/missing") == nil)
        #expect(try ELFArch.detect(in: reopened) == .x86_64)
        try reopened.close()
    }

    @Test(arguments: ext4Variants)
    func sameInputsGiveSameBytes(mkfsOptions: [String]) throws {
        let dir = try Project.scratch("ext4-det")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Ext4Tools.makeImage(in: dir, mkfsOptions: mkfsOptions)
        var digests: [String] = []
        for round in 0..<2 {
            let copy = dir.appendingPathComponent("copy\(round).img").path
            try FileManager.default.copyItem(atPath: base, toPath: copy)
            if round == 1 { try Wait.forTheNextSecond() }
            let volume = try Ext4Volume(imagePath: copy, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
            try applyPatch(volume)
            try volume.close()
            digests.append(try Project.sha256(copy))
        }
        #expect(digests[0] == digests[1])
        #expect(try Project.sha256(base) != digests[0])
    }

    @Test func unknownIncompatFeatureIsRefused() throws {
        let dir = try Project.scratch("ext4-unknown")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"])
        // s_feature_incompat is at byte 0x60 of the superblock; set bit 19 (byte 2, 0x08).
        let byte = Ext4Tools.partitionOffset + 1024 + 0x62
        let file = try #require(FileHandle(forUpdatingAtPath: image))
        try file.seek(toOffset: byte)
        let current = try #require(try file.read(upToCount: 1)).first ?? 0
        try file.seek(toOffset: byte)
        try file.write(contentsOf: [current | 0x08])
        try file.close()
        let superblock = try ProcessRunner.run("dumpe2fs", ["-h", "\(image)?offset=\(Ext4Tools.partitionOffset)"])
        #expect(superblock.stdout.contains("FEATURE_I19") || superblock.stderr.contains("unsupported feature"))
        let before = try Project.sha256(image)
        let expected = Ext4Error.unsupportedFeature(name: "FEATURE_I19", kind: "incompat", mask: 0x80000, action: "write")
        #expect(throws: expected) {
            _ = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true)
        }
        #expect(expected.description == "rootfs: ext4 feature 'FEATURE_I19' (incompat 0x80000) is not supported; refusing to write")
        #expect(try Project.sha256(image) == before)
    }

    @Test func knownButUnsupportedFeatureIsRefused() throws {
        let dir = try Project.scratch("ext4-quota")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096", "-O", "quota"])
        #expect(throws: Ext4Error.unsupportedFeature(name: "quota", kind: "ro_compat", mask: 0x100, action: "write")) {
            _ = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true)
        }
    }

    @Test func pathsStayInsideTheImage() throws {
        let dir = try Project.scratch("ext4-paths")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"])
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        try volume.makeSymlink("etc/up", target: "../../../../../../etc", uid: 0, gid: 0, mtime: fixedTime)
        try volume.makeSymlink("etc/abs", target: "/usr/../../lib", uid: 0, gid: 0, mtime: fixedTime)
        try volume.writeFile("etc/up/escaped.txt", bytes: Array("inside\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        try volume.writeFile("etc/abs/via-abs.txt", bytes: Array("abs\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        #expect(throws: Ext4Error.notADirectory(path: "etc/hostname")) {
            try volume.writeFile("etc/hostname/x", bytes: [], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        }
        try volume.makeSymlink("loop-a", target: "loop-b", uid: 0, gid: 0, mtime: fixedTime)
        try volume.makeSymlink("loop-b", target: "/loop-a", uid: 0, gid: 0, mtime: fixedTime)
        #expect(throws: Ext4Error.symlinkLoop(path: "loop-a/x")) {
            try volume.writeFile("loop-a/x", bytes: [], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        }
        #expect(throws: Ext4Error.isADirectory(path: "etc")) {
            try volume.writeFile("etc", bytes: [], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        }
        #expect(throws: Ext4Error.invalidPath(path: "etc/..")) {
            try volume.writeFile("etc/..", bytes: [], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        }
        try volume.makeDirectory("lib", mode: 0o755, uid: 0, gid: 0, mtime: fixedTime)
        #expect(try volume.lookup("lib")?.kind == .symlink)
        try volume.close()

        let fs = dir.appendingPathComponent("check.ext4").path
        try Ext4Tools.extractPartition(image, to: fs)
        let fsck = try ProcessRunner.run("e2fsck", ["-fn", fs])
        #expect(fsck.status == 0, "e2fsck -fn: \(fsck.stdout)\(fsck.stderr)")
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/escaped.txt") == "inside\n")
        #expect(try Ext4Tools.debugfs(fs, "cat /usr/lib/via-abs.txt") == "abs\n")
        #expect(!FileManager.default.fileExists(atPath: "/etc/escaped.txt"))
    }

    @Test func architectureFromDpkgWhenEnvIsMissing() throws {
        let dir = try Project.scratch("ext4-arch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"])
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        try volume.writeFile("usr/bin/env", bytes: Array("#!/bin/sh\n".utf8), mode: 0o755, uid: 0, gid: 0, mtime: fixedTime)
        #expect(throws: ELFArchError.notELF) { try ELFArch.detect(in: volume) }
        try volume.makeSymlink("usr/bin/env", target: "/nonexistent", uid: 0, gid: 0, mtime: fixedTime)
        try volume.writeFile("var/lib/dpkg/arch", bytes: Array("arm64\narmhf\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        #expect(try ELFArch.detect(in: volume) == .aarch64)
        try volume.close()
    }

    @Test func growsPlainAndHashIndexedDirectories() throws {
        let dir = try Project.scratch("ext4-dirs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"])
        let fs = dir.appendingPathComponent("check.ext4").path
        // Give etc/ enough entries for several blocks, then let e2fsck -D index it.
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        for index in 0..<400 {
            try volume.writeFile("etc/stock-\(index)-with-a-long-name.conf", bytes: [UInt8(index & 0xFF)], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        }
        try volume.close()
        try Ext4Tools.extractPartition(image, to: fs)
        try ProcessRunner.run("e2fsck", ["-fyD", fs])
        #expect(Ext4Tools.folded(try Ext4Tools.debugfs(fs, "stat /etc")).contains("Flags: 0x81000"), "etc is hash-indexed (0x1000) and extent-mapped")
        let indexed = dir.appendingPathComponent("indexed.img").path
        try ProcessRunner.check("truncate", ["-s", "66M", indexed])
        try ProcessRunner.check("dd", ["if=\(fs)", "of=\(indexed)", "bs=1M", "seek=1", "conv=notrunc", "status=none"])

        let again = try Ext4Volume(imagePath: indexed, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        for index in 0..<300 {
            try again.writeFile("etc/added-\(index)-with-a-long-name", bytes: [1], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
        }
        try again.writeFile("etc/stock-7-with-a-long-name.conf", bytes: [9, 9], mode: 0o600, uid: 0, gid: 0, mtime: fixedTime)
        #expect(try again.readFile("etc/added-299-with-a-long-name") == [1])
        #expect(try again.readFile("etc/stock-7-with-a-long-name.conf") == [9, 9])
        try again.close()
        try Ext4Tools.extractPartition(indexed, to: fs)
        let fsck = try ProcessRunner.run("e2fsck", ["-fn", fs])
        #expect(fsck.status == 0, "e2fsck -fn: \(fsck.stdout)\(fsck.stderr)")
        #expect(try Ext4Tools.debugfs(fs, "cat /etc/added-150-with-a-long-name") == "\u{01}")
    }
}
