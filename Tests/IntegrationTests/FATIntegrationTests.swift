import DiskFormats
import Ext4FS
import ImageBuild
import Foundation
import Testing
import TestSupport

/// FATVolume against mkfs.vfat, fsck.fat -n and mtools on real images.
@Suite("FAT integration")
struct FATIntegrationTests {
    /// A mkfs.vfat layout under test.
    struct Layout: CustomTestStringConvertible, Sendable {
        var name: String
        var megabytes: UInt64
        var mkfs: [String]
        var kind: FATKind
        var testDescription: String { name }
    }

    static let layouts: [Layout] = [
        Layout(name: "FAT12 2M", megabytes: 2, mkfs: ["-F", "12"], kind: .fat12),
        Layout(name: "FAT16 32M", megabytes: 32, mkfs: ["-F", "16"], kind: .fat16),
        Layout(name: "FAT16 32M 4K sectors", megabytes: 32, mkfs: ["-F", "16", "-S", "4096", "-s", "1"], kind: .fat16),
        Layout(name: "FAT32 64M -s 1", megabytes: 64, mkfs: ["-F", "32", "-s", "1"], kind: .fat32),
        Layout(name: "FAT32 256M -s 4", megabytes: 256, mkfs: ["-F", "32", "-s", "4"], kind: .fat32),
    ]

    static let time: UInt32 = 1_700_000_000  // 2023-11-14 22:13:20 UTC

    /// Makes a fresh volume in a temp dir; returns (dir, image path).
    static func make(_ layout: Layout) throws -> (URL, String) {
        let dir = try Project.scratch("fat")
        let path = dir.appendingPathComponent("fat.img").path
        try FATTools.makeFile(path, bytes: layout.megabytes << 20)
        try ProcessRunner.check("mkfs.vfat", layout.mkfs + ["-n", "bootfs", "-i", "1234abcd", "--invariant", path], mergeStderr: true)
        return (dir, path)
    }

    /// A fresh volume of `layout` made by mkfs.vfat, opened, for `body` (with its scratch
    /// directory and path); removed after it.
    static func withVolume(_ layout: Layout, _ body: (URL, String, FATVolume) throws -> Void) throws {
        let (dir, path) = try make(layout)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir, path, try open(path))
    }

    static func open(_ path: String) throws -> FATVolume {
        let image = try ImageFile(path: path, writable: true)
        return try FATVolume(image: image, range: ByteRange(offset: 0, length: image.size))
    }

    /// Contents of a file as mtools sees it.
    static func mtools(_ path: String, _ file: String) throws -> [UInt8] {
        let out = path + ".out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try ProcessRunner.check("mcopy", ["-n", "-o", "-i", path, "::" + file, out], mergeStderr: true)
        return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    static func pattern(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &+ $0 >> 8) }
    }

    @Test("write, replace and read back; fsck.fat clean, mtools agrees", arguments: layouts)
    func writeReplaceRead(layout: Layout) throws {
        try Self.withVolume(layout) { (_: URL, path: String, volume: FATVolume) throws in
            #expect(volume.kind == layout.kind)
            #expect(volume.label == "bootfs")

            let config = Array("# config\narm_64bit=1\n".utf8)
            let cmdline = Array("console=serial0,115200 root=PARTUUID=1234abcd-02 rootwait\n".utf8)
            let big = Self.pattern(3 * volume.clusterSize + 77, seed: 1)
            let longName = "A very long file name, with spaces and more.txt"
            try volume.writeFile("config.txt", config, modified: Self.time)
            try volume.writeFile("cmdline.txt", cmdline, modified: Self.time)
            try volume.writeFile(longName, big, modified: Self.time)
            try volume.writeFile("ReadMe.md", Array("mixed case\n".utf8), modified: Self.time)
            try volume.writeFile("empty", [], modified: Self.time)
            try volume.makeDirectory("overlays/extra/deep", modified: Self.time)
            try volume.writeFile("overlays/dwc2.dtbo", Self.pattern(1500, seed: 2), modified: Self.time)
            try volume.writeFile("overlays/extra/deep/Ünïcødé name.bin", Self.pattern(10, seed: 3), modified: Self.time)

            try FATTools.expectClean(path)
            #expect(try Self.mtools(path, "config.txt") == config)
            #expect(try ProcessRunner.check("mtype", ["-i", path, "::cmdline.txt"], mergeStderr: true).output == String(decoding: cmdline, as: UTF8.self))
            #expect(try Self.mtools(path, longName) == big)
            #expect(try Self.mtools(path, "overlays/dwc2.dtbo") == Self.pattern(1500, seed: 2))
            #expect(try Self.mtools(path, "overlays/extra/deep/Ünïcødé name.bin") == Self.pattern(10, seed: 3))
            #expect(try Self.mtools(path, "empty") == [])
            let listing = try ProcessRunner.check("mdir", ["-i", path, "::"], mergeStderr: true).output
            #expect(listing.contains(longName))
            #expect(listing.contains("ReadMe.md"))
            #expect(listing.contains("AVERYL~1 TXT"))

            try volume.writeFile("config.txt", config + Self.pattern(2 * volume.clusterSize, seed: 4), modified: Self.time)
            try FATTools.expectClean(path)
            #expect(try Self.mtools(path, "config.txt") == config + Self.pattern(2 * volume.clusterSize, seed: 4))
            try volume.writeFile("CONFIG.TXT", Array("short\n".utf8), modified: Self.time)
            try FATTools.expectClean(path)
            #expect(try ProcessRunner.check("mtype", ["-i", path, "::config.txt"], mergeStderr: true).output == "short\n")

            let reopened = try Self.open(path)
            #expect(try reopened.readFile("Config.Txt") == Array("short\n".utf8))
            #expect(try reopened.readFile(longName.uppercased()) == big)
            #expect(try reopened.readFile("missing.txt") == nil)
            #expect(try reopened.readFile("nodir/missing.txt") == nil)
            let names = try reopened.list("").map(\.name)
            #expect(names == ["config.txt", "cmdline.txt", longName, "ReadMe.md", "empty", "overlays"])
            let entry = try #require(try reopened.list("/").first { $0.name == "cmdline.txt" })
            #expect(entry.size == UInt32(cmdline.count))
            #expect(entry.modified == Self.time)
            #expect(entry.shortName == "CMDLINE.TXT")
            #expect(try reopened.list("overlays").map(\.name) == ["extra", "dwc2.dtbo"])
        }
    }

    @Test("files written by mtools read back byte for byte", arguments: layouts)
    func readsMtoolsFiles(layout: Layout) throws {
        let (dir, path) = try Self.make(layout)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("src.bin").path
        let data = Self.pattern(5000, seed: 9)
        try Data(data).write(to: URL(fileURLWithPath: source))
        try ProcessRunner.check("mmd", ["-i", path, "::Sub Dir"], mergeStderr: true)
        try ProcessRunner.check("mcopy", ["-i", path, source, "::Sub Dir/Some Long Name.bin"], mergeStderr: true)
        try ProcessRunner.check("mcopy", ["-i", path, source, "::KERNEL.IMG"], mergeStderr: true)
        let volume = try Self.open(path)
        #expect(try volume.readFile("sub dir/some long name.bin") == data)
        #expect(try volume.readFile("kernel.img") == data)
        #expect(try volume.list("Sub Dir").map(\.name) == ["Some Long Name.bin"])

        try volume.writeFile("SUB DIR/some long name.bin", Array("replaced\n".utf8), modified: Self.time)
        try volume.writeFile("Sub Dir/Some Long Name 2.bin", data, modified: Self.time)
        try FATTools.expectClean(path)
        #expect(try ProcessRunner.check("mtype", ["-i", path, "::Sub Dir/Some Long Name.bin"], mergeStderr: true).output == "replaced\n")
        #expect(try Self.mtools(path, "Sub Dir/Some Long Name 2.bin") == data)
        #expect(try Self.mtools(path, "KERNEL.IMG") == data)
    }

    @Test("the FAT32 root directory grows like any other")
    func growRoot() throws {
        try Self.withVolume(Self.layouts[3]) { (_: URL, path: String, volume: FATVolume) throws in
            let names = (0..<40).map { "root file with a long name \($0).txt" }
            for name in names { try volume.writeFile(name, Array(name.utf8), modified: Self.time) }
            try FATTools.expectClean(path)
            #expect(try Self.open(path).list("").map(\.name) == names)
            for name in [names[0], names[39]] {
                #expect(try ProcessRunner.check("mtype", ["-i", path, "::" + name], mergeStderr: true).output == name)
            }
        }
    }

    @Test("a directory grows past one cluster; short names get ~N tails", arguments: [layouts[0], layouts[3]])
    func growDirectory(layout: Layout) throws {
        try Self.withVolume(layout) { (_: URL, path: String, volume: FATVolume) throws in
            try volume.makeDirectory("overlays", modified: Self.time)
            let slotsPerCluster = volume.clusterSize / 32
            let count = slotsPerCluster + 5
            for i in 0..<count {
                try volume.writeFile("overlays/overlay-number-\(i).dtbo", Array("\(i)\n".utf8), modified: Self.time)
            }
            try FATTools.expectClean(path)
            let entries = try volume.list("overlays")
            #expect(entries.count == count)
            #expect(entries.prefix(9).map(\.shortName) == (1...9).map { "OVERLA~\($0).DTB" })
            let listing = try ProcessRunner.check("mdir", ["-i", path, "::overlays"], mergeStderr: true).output
            #expect(listing.contains("\(count + 2) files"))  // mdir counts . and ..
            for i in [0, count / 2, count - 1] {
                #expect(try ProcessRunner.check("mtype", ["-i", path, "::overlays/overlay-number-\(i).dtbo"], mergeStderr: true).output == "\(i)\n")
            }
        }
    }

    @Test("FAT16 fixed root directory full: clear error, still clean")
    func rootFull() throws {
        let layout = Layout(name: "FAT16 root 16", megabytes: 32, mkfs: ["-F", "16", "-r", "16"], kind: .fat16)
        try Self.withVolume(layout) { (_: URL, path: String, volume: FATVolume) throws in
            let slots = volume.boot.rootEntryCount
            #expect(slots == 64)  // mkfs.vfat rounds -r 16 up to whole clusters
            for i in 0..<slots - 1 {  // one slot holds the volume label
                try volume.writeFile("F\(i).TXT", [UInt8(i)], modified: Self.time)
            }
            #expect(throws: FATError.rootDirectoryFull(volume: "bootfs", path: "F\(slots - 1).TXT", entries: slots)) {
                try volume.writeFile("F\(slots - 1).TXT", [0], modified: Self.time)
            }
            #expect(throws: FATError.rootDirectoryFull(volume: "bootfs", path: "sub", entries: slots)) {
                try volume.makeDirectory("sub", modified: Self.time)
            }
            #expect(try volume.list("").count == slots - 1)
            try FATTools.expectClean(path)
        }
    }

    @Test("near-full volume: no-space error names the need, volume stays clean")
    func noSpace() throws {
        try Self.withVolume(Self.layouts[0]) { (_: URL, path: String, volume: FATVolume) throws in
            try volume.writeFile("config.txt", Array("x\n".utf8), modified: Self.time)
            let free = volume.freeClusterCount
            let filler = Self.pattern((free - 2) * volume.clusterSize, seed: 5)
            try volume.writeFile("filler.bin", filler, modified: Self.time)
            #expect(volume.freeClusterCount == 2)
            let tooBig = Self.pattern(3 * volume.clusterSize + 1, seed: 6)
            #expect(throws: FATError.noSpace(volume: "bootfs", path: "config.txt", need: 4, free: 3)) {
                try volume.writeFile("config.txt", tooBig, modified: Self.time)
            }
            #expect(throws: FATError.noSpace(volume: "bootfs", path: "new.txt", need: 4, free: 2)) {
                try volume.writeFile("new.txt", tooBig, modified: Self.time)
            }
            #expect("\(FATError.noSpace(volume: "bootfs", path: "config.txt", need: 4, free: 3))"
                == "bootfs: no space for config.txt: need 4 clusters, 3 free")
            try FATTools.expectClean(path)
            #expect(try Self.mtools(path, "config.txt") == Array("x\n".utf8))
            try volume.writeFile("config.txt", Self.pattern(3 * volume.clusterSize, seed: 7), modified: Self.time)
            #expect(volume.freeClusterCount == 0)
            try FATTools.expectClean(path)
            #expect(try Self.mtools(path, "filler.bin") == filler)
        }
    }

    @Test("FSInfo free count and next-free follow the writes (FAT32)")
    func fsInfo() throws {
        try Self.withVolume(Self.layouts[4]) { (_: URL, path: String, volume: FATVolume) throws in
            try volume.writeFile("a.bin", Self.pattern(10 * volume.clusterSize, seed: 1), modified: Self.time)
            try volume.writeFile("a.bin", Self.pattern(4 * volume.clusterSize, seed: 1), modified: Self.time)
            let sector = Array(try Data(contentsOf: URL(fileURLWithPath: path)).prefix(1024)[512..<1024])
            func u32(_ at: Int) -> Int { Int(sector[at]) | Int(sector[at + 1]) << 8 | Int(sector[at + 2]) << 16 | Int(sector[at + 3]) << 24 }
            #expect(u32(488) == volume.freeClusterCount)
            #expect(u32(492) == 6)  // root is cluster 2; a.bin now holds 3...6, the last allocated
            try FATTools.expectClean(path)
        }
    }

    @Test("allocated ranges hold the whole file system (copying only them keeps it intact)", arguments: layouts)
    func allocatedRanges(layout: Layout) throws {
        try Self.withVolume(layout) { (dir: URL, path: String, volume: FATVolume) throws in
            try volume.makeDirectory("overlays", modified: Self.time)
            try volume.writeFile("overlays/x.dtbo", Self.pattern(2 * volume.clusterSize + 3, seed: 8), modified: Self.time)
            try volume.writeFile("config.txt", Array("cfg\n".utf8), modified: Self.time)
            let ranges = try volume.allocatedRanges()
            #expect(ranges.first?.offset == 0)
            #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.end < $1.offset })
            let copy = dir.appendingPathComponent("copy.img").path
            try FATTools.makeFile(copy, bytes: layout.megabytes << 20)
            let source = try ImageFile(path: path, writable: false)
            let target = try ImageFile(path: copy, writable: true)
            for range in ranges { try target.write(source.read(at: range.offset, count: Int(range.length)), at: range.offset) }
            try FATTools.expectClean(copy)
            #expect(try Self.mtools(copy, "overlays/x.dtbo") == Self.pattern(2 * volume.clusterSize + 3, seed: 8))
            #expect(try ProcessRunner.check("mtype", ["-i", copy, "::config.txt"], mergeStderr: true).output == "cfg\n")
        }
    }

    @Test("the same operations give the same bytes")
    func deterministic() throws {
        var digests: [Data] = []
        for _ in 0..<2 {
            try Self.withVolume(Self.layouts[3]) { (_: URL, path: String, volume: FATVolume) throws in
                try volume.makeDirectory("overlays", modified: Self.time)
                try volume.writeFile("overlays/Some Long Overlay.dtbo", Self.pattern(999, seed: 1), modified: Self.time)
                try volume.writeFile("config.txt", Array("a\n".utf8), modified: Self.time)
                digests.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            }
        }
        #expect(digests[0] == digests[1])
    }
}
