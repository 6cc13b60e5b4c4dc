import DiskFormats
import Ext4FS
import ImageBuild
import Foundation
import Testing
import TestSupport

/// PartitionTable against images partitioned by sfdisk and formatted by mkfs.vfat / mkfs.ext4.
@Suite("MBR and GPT integration")
struct MBRIntegrationTests {
    static let bootStart: UInt64 = 8192
    static let bootSectors: UInt64 = 1_048_576  // 512 MiB
    static let rootStart: UInt64 = bootStart + bootSectors
    static let rootSectors: UInt64 = 131_072  // 64 MiB
    static let imageBytes = (rootStart + rootSectors) * 512

    /// `body` given a new scratch directory, removed afterwards.
    static func inScratch(_ body: (URL) throws -> Void) throws {
        let dir = try Project.scratch("fat")
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(dir)
    }

    /// A sparse file of `bytes` at `path`, partitioned by sfdisk with `layout` (its script); `path`.
    static func partitioned(_ path: String, bytes: UInt64, _ layout: String) throws -> String {
        try FATTools.makeFile(path, bytes: bytes)
        try ProcessRunner.check("sfdisk", ["--no-reread", "--no-tell-kernel", path], input: layout, mergeStderr: true)
        return path
    }

    /// A Raspberry Pi OS-like image: MBR, FAT32 bootfs (-s 4) at sector 8192, ext4 after it.
    static func piImage(in dir: URL) throws -> String {
        let path = try partitioned(dir.appendingPathComponent("pi.img").path, bytes: imageBytes, """
            label: dos
            label-id: 0x1234abcd
            start=\(bootStart), size=\(bootSectors), type=c
            start=\(rootStart), size=\(rootSectors), type=83

            """)
        try ProcessRunner.check("mkfs.vfat", [
            "-F", "32", "-s", "4", "-n", "bootfs", "-i", "5e5e5e5e", "--invariant",
            "--offset=\(bootStart)", path, "\(bootSectors / 2)",
        ], mergeStderr: true)
        try ProcessRunner.check("mkfs.ext4", [
            "-q", "-F", "-O", "^64bit,^huge_file", "-L", "rootfs",
            "-E", "offset=\(rootStart * 512)", path, "\(rootSectors / 2)k",
        ], mergeStderr: true)
        return path
    }

    @Test("pi-gen-like MBR: bootfs and rootfs found, bootfs patched, fsck.fat and mtools agree")
    func piLayout() throws {
        try Self.inScratch { dir in
            let path = try Self.piImage(in: dir)
            let image = try ImageFile(path: path, writable: true)
            let table = try PartitionTable.read(from: image)
            #expect(table.scheme == .mbr)
            #expect(table.diskIdentifier == "1234abcd")
            let boot = try table.boot(), root = try table.root()
            #expect(boot.index == 1)
            #expect(boot.kind == .mbr(0x0c))
            #expect(boot.range == ByteRange(offset: Self.bootStart * 512, length: Self.bootSectors * 512))
            #expect(root.index == 2)
            #expect(root.partUUID == "1234abcd-02")
            #expect(root.range == ByteRange(offset: Self.rootStart * 512, length: Self.rootSectors * 512))

            let volume = try FATVolume(image: image, range: boot.range)
            #expect(volume.kind == .fat32)
            #expect(volume.clusterSize == 2048)
            let cmdline = "console=serial0,115200 root=PARTUUID=\(root.partUUID) rootfstype=ext4 rootwait\n"
            try volume.writeFile("cmdline.txt", Array(cmdline.utf8), modified: 1_700_000_000)
            try volume.makeDirectory("overlays", modified: 1_700_000_000)
            try volume.writeFile("overlays/README", Array("overlays\n".utf8), modified: 1_700_000_000)

            try FATTools.expectClean(path, offset: boot.range.offset, length: boot.range.length)
            let mtoolsImage = "\(path)@@\(boot.range.offset)"
            #expect(try ProcessRunner.check("mtype", ["-i", mtoolsImage, "::cmdline.txt"], mergeStderr: true).output == cmdline)
            #expect(try ProcessRunner.check("mtype", ["-i", mtoolsImage, "::overlays/README"], mergeStderr: true).output == "overlays\n")
            let ranges = try volume.allocatedRanges()
            #expect(ranges.allSatisfy { $0.offset >= boot.range.offset && $0.end <= boot.range.end })
            let fsck = try ProcessRunner.run("e2fsck", ["-fn", "\(path)?offset=\(root.range.offset)"], mergeStderr: true)
            #expect(fsck.status == 0, "ext4 untouched:\n\(fsck.output)")
        }
    }

    @Test("a truncated image: partition 2 past the end is a clear error")
    func truncated() throws {
        try Self.inScratch { dir in
            let path = try Self.piImage(in: dir)
            let short = Self.imageBytes - 1_048_576
            try FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: short)
            let image = try ImageFile(path: path, writable: false)
            #expect(throws: PartitionTableError.pastEnd(partition: 2, end: Self.imageBytes, imageSize: short)) {
                try PartitionTable.read(from: image)
            }
            #expect("\(PartitionTableError.pastEnd(partition: 2, end: Self.imageBytes, imageSize: short))"
                == "partition 2 ends at byte \(Self.imageBytes), past the end of the image (\(short) bytes)")
        }
    }

    @Test("GPT made by sfdisk: entries, names, GUIDs match sfdisk --json")
    func gpt() throws {
        try Self.inScratch { dir in
            let path = try Self.partitioned(dir.appendingPathComponent("gpt.img").path, bytes: 200 << 20, """
                label: gpt
                label-id: 0A0B0C0D-1111-2222-3333-444455556666
                start=2048, size=4096, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="scratch"
                start=8192, size=131072, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="bootfs", uuid=11111111-2222-3333-4444-555555555555
                start=139264, size=262144, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="rootfs"

                """)
            try ProcessRunner.check("mkfs.vfat", ["-F", "32", "-n", "bootfs", "--offset=8192", path, "65536"], mergeStderr: true)
            try ProcessRunner.check("mkfs.ext4", ["-q", "-F", "-E", "offset=\(139264 * 512)", path, "128M"], mergeStderr: true)

            let table = try PartitionTable.read(from: ImageFile(path: path, writable: false))
            #expect(table.scheme == .gpt)
            #expect(table.diskIdentifier == "0a0b0c0d-1111-2222-3333-444455556666")
            let json = try ProcessRunner.check("sfdisk", ["--json", path], mergeStderr: true).output
            let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            let listed = try #require((parsed?["partitiontable"] as? [String: Any])?["partitions"] as? [[String: Any]])
            #expect(table.partitions.count == listed.count)
            for (partition, expected) in zip(table.partitions, listed) {
                #expect(partition.range.offset == (expected["start"] as? UInt64 ?? 0) * 512)
                #expect(partition.range.length == (expected["size"] as? UInt64 ?? 0) * 512)
                #expect(partition.partUUID == (expected["uuid"] as? String)?.lowercased())
                #expect(partition.name == expected["name"] as? String)
                #expect(partition.kind == .gpt(GUID(expected["type"] as? String ?? "")!))
            }
            #expect(try table.boot().index == 2)
            #expect(try table.boot().partUUID == "11111111-2222-3333-4444-555555555555")
            #expect(try table.root().index == 3)  // partition 1 is Linux-typed but holds no ext4
        }
    }

    @Test("two FAT partitions: the one labelled bootfs is the boot partition; none is a clear error")
    func pickByLabel() throws {
        try Self.inScratch { dir in
            let path = try Self.partitioned(dir.appendingPathComponent("two.img").path, bytes: 80 << 20, """
                label: dos
                label-id: 0xcafe0001
                start=2048, size=65536, type=e
                start=67584, size=65536, type=c

                """)
            try ProcessRunner.check("mkfs.vfat", ["-F", "16", "-n", "DATA", "--offset=2048", path, "32768"], mergeStderr: true)
            try ProcessRunner.check("mkfs.vfat", ["-F", "32", "-n", "bootfs", "--offset=67584", path, "32768"], mergeStderr: true)
            let table = try PartitionTable.read(from: ImageFile(path: path, writable: false))
            #expect(try table.boot().index == 2)
            #expect(table.rootPartition == nil)
            #expect(throws: PartitionTableError.noRootPartition(
                found: "1 (type 0xe at byte 1048576), 2 (type 0xc at byte 34603008)")) { try table.root() }
            #expect("\(PartitionTableError.noRootPartition(found: "none"))"
                == "no ext4 root partition (Linux type); partitions: none")
        }
    }
}
