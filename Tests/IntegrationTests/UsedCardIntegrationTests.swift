import Foundation
import Testing
import TestSupport

/// The used-card property: whatever the image's shape, `fpga-lab flash` onto a target full of
/// old data (0xA5 everywhere) leaves a target whose partition table, every file system
/// (`fsck.fat -n`, `e2fsck -fn`) and every file are those of the image. Every shape goes
/// through `build-image` first (so its bmap is fpga-lab's own), then is flashed with that
/// bmap and without one.
///
/// A zero block the bmap or the copy leaves out shows up as 0xA5: a zeroed FAT sector, a GPT
/// entry array, an ext4 bitmap or inode table block.
@Suite(.serialized) struct UsedCardIntegrationTests {
    struct Shape: CustomStringConvertible, Sendable {
        var label: String          // dos | gpt
        var bootFAT: Int           // 12 | 16 | 32
        var bootClusterSectors: Int
        var bootMiB: Int
        /// A third partition fpga-lab does not understand, holding a FAT of these bits (0: none).
        var dataFAT: Int = 0
        var dataClusterSectors: Int = 1
        var dataMiB: Int = 12
        var ext4Features: String
        var compressed: Bool

        var description: String {
            "\(label) FAT\(bootFAT)/s\(bootClusterSectors)"
                + (dataFAT > 0 ? " +FAT\(dataFAT)/s\(dataClusterSectors) data" : "")
                + " ext4 \(ext4Features.isEmpty ? "default" : ext4Features)\(compressed ? " .xz" : " raw")"
        }
    }

    /// FAT12/16/32 at 1 to 64 sectors per cluster, each with a cluster count its FAT type
    /// allows (mtools and the kernel tell the type by that count); MBR and GPT; 2 and 3
    /// partitions; four ext4 feature sets; raw and .xz bases.
    static let shapes: [Shape] = [
        Shape(label: "dos", bootFAT: 32, bootClusterSectors: 1, bootMiB: 40, ext4Features: "", compressed: false),
        Shape(label: "gpt", bootFAT: 32, bootClusterSectors: 4, bootMiB: 260, dataFAT: 16, dataClusterSectors: 1,
              ext4Features: "^64bit,^huge_file", compressed: false),
        Shape(label: "gpt", bootFAT: 16, bootClusterSectors: 64, bootMiB: 140, dataFAT: 12, dataClusterSectors: 64,
              ext4Features: "^has_journal", compressed: true),
        Shape(label: "dos", bootFAT: 12, bootClusterSectors: 4, bootMiB: 6, dataFAT: 32, dataClusterSectors: 1, dataMiB: 40,
              ext4Features: "^metadata_csum", compressed: true),
        Shape(label: "dos", bootFAT: 16, bootClusterSectors: 16, bootMiB: 40, ext4Features: "^64bit,^huge_file",
              compressed: false),
        Shape(label: "gpt", bootFAT: 12, bootClusterSectors: 1, bootMiB: 2, ext4Features: "", compressed: false),
    ]

    @Test(arguments: shapes, [true, false])
    func flashOverOldDataLeavesTheImageIntact(shape: Shape, withBmap: Bool) throws {
        let dir = try Project.scratch("used-card")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.makeBase(shape, in: dir)
        let built = try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", base,
                                         "--output", "out/pi.img"], in: dir)
        try #require(built.status == 0, "\(shape): \(built.stderr)")
        let image = dir.appendingPathComponent("out/pi.img").path
        var source = image
        if !withBmap {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("bare"), withIntermediateDirectories: true)
            source = dir.appendingPathComponent("bare/pi.img").path
            try FileManager.default.copyItem(atPath: image, toPath: source)
        }
        let size = try FileManager.default.attributesOfItem(atPath: image)[.size] as! UInt64
        let target = dir.appendingPathComponent("card.img").path
        try ProcessRunner.check("sh", ["-c", "head -c \(size) /dev/zero | tr '\\000' '\\245' > '\(target)'"])

        let flashed = try Project.fpgaLab(["flash", source, target])
        try #require(flashed.status == 0, "\(shape): \(flashed.stderr)")
        #expect(flashed.stdout.contains(withBmap ? "(the blocks its bmap maps)" : "(every block: no bmap)"), "\(flashed.stdout)")

        // The partition table, as sfdisk reads it (both GPT CRCs checked on the way).
        let table = { (path: String) in try ProcessRunner.check("sfdisk", ["-d", path]).stdout.replacingOccurrences(of: path, with: "IMG") }
        #expect(try table(target) == table(image), "\(shape)")
        if shape.label == "gpt" {
            let verify = try ProcessRunner.run("sfdisk", ["--verify", target])
            #expect(verify.status == 0 && !verify.stdout.contains("corrupt"), "\(shape): \(verify.stdout)\(verify.stderr)")
        }
        // Every file system clean, every file the image's.
        for (index, part) in try Self.partitions(image).enumerated() {
            let mine = dir.appendingPathComponent("p\(index).target").path
            let theirs = dir.appendingPathComponent("p\(index).image").path
            try BuildImageIntegrationTests.extract(target, offset: part.offset, size: part.size, to: mine)
            try BuildImageIntegrationTests.extract(image, offset: part.offset, size: part.size, to: theirs)
            let isExt4 = index == 1
            if isExt4 {
                let fsck = try ProcessRunner.run("e2fsck", ["-fn", mine])
                #expect(fsck.status == 0, "\(shape) partition \(index + 1): \(fsck.stdout)\(fsck.stderr)")
            } else {
                let fsck = try ProcessRunner.run("fsck.fat", ["-n", mine])
                #expect(fsck.status == 0 && !fsck.stdout.contains("differ"), "\(shape) partition \(index + 1): \(fsck.stdout)")
            }
            let trees = try [mine, theirs].map { fs in
                let tree = fs + ".tree"
                try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
                if isExt4 {
                    try ProcessRunner.check("debugfs", ["-R", "rdump / \(tree)", fs])
                } else {
                    try ProcessRunner.check("mcopy", ["-s", "-p", "-m", "-i", fs, "::*", tree])
                }
                return tree
            }
            let diff = try ProcessRunner.run("diff", ["-r", "--no-dereference", trees[0], trees[1]])
            #expect(diff.status == 0, "\(shape) partition \(index + 1): \(diff.stdout)")
        }
    }

    struct Extent { var offset: UInt64; var size: UInt64 }

    static func partitions(_ image: String) throws -> [Extent] {
        let json = try ProcessRunner.check("sfdisk", ["--json", image]).stdout
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let parts = (object["partitiontable"] as! [String: Any])["partitions"] as! [[String: Any]]
        return parts.map { Extent(offset: UInt64($0["start"] as! Int) * 512, size: UInt64($0["size"] as! Int) * 512) }
    }

    /// A base of `shape`, made by the real tools: sfdisk; mkfs.vfat for bootfs (config.txt,
    /// cmdline.txt) and the data partition (a file, and FAT sectors that are all zero); mkfs.ext4
    /// -d with a root tree holding /usr/bin/env (the image's architecture) and /etc/hosts.
    static func makeBase(_ shape: Shape, in dir: URL) throws -> String {
        let bootSectors = shape.bootMiB * 2048
        let rootSectors = 24 * 2048
        let dataSectors = shape.dataFAT > 0 ? shape.dataMiB * 2048 : 0
        let bootStart = 2048, rootStart = bootStart + bootSectors, dataStart = rootStart + rootSectors
        let totalMiB = (dataStart + dataSectors) / 2048 + (shape.label == "gpt" ? 1 : 0)
        let bootType = shape.label == "gpt" ? "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" : "c"
        let rootType = shape.label == "gpt" ? "0FC63DAF-8483-4772-8E79-3D69D8477DE4" : "83"
        var layout = "label: \(shape.label)\n"
        layout += "start=\(bootStart), size=\(bootSectors), type=\(bootType)\(shape.label == "gpt" ? ", name=bootfs" : "")\n"
        layout += "start=\(rootStart), size=\(rootSectors), type=\(rootType)\(shape.label == "gpt" ? ", name=rootfs" : "")\n"
        if shape.dataFAT > 0 { layout += "start=\(dataStart), size=\(dataSectors), type=\(bootType)\n" }
        let ext4Options = shape.ext4Features.isEmpty ? "" : "-O \(shape.ext4Features)"
        let script = """
            set -eu
            mkdir -p tree/usr/bin tree/etc
            cp /usr/bin/env tree/usr/bin/env
            printf 'fpga-pi\\n' > tree/etc/hostname
            printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\traspberrypi\\n' > tree/etc/hosts
            head -c 300000 /dev/urandom > tree/etc/blob
            truncate -s \(totalMiB)M base.img
            printf '%s' '\(layout)' | sfdisk -q base.img
            truncate -s \(shape.bootMiB)M boot.fs
            mkfs.vfat -F \(shape.bootFAT) -s \(shape.bootClusterSectors) -n BOOTFS boot.fs >/dev/null
            printf 'dtparam=audio=on\\n[pi4]\\narm_boost=1\\n[all]\\n' > config.txt
            printf 'console=serial0,115200 root=PARTUUID=x rootfstype=ext4 rootwait\\n' > cmdline.txt
            mcopy -i boot.fs config.txt cmdline.txt ::
            truncate -s 24M root.fs
            mkfs.ext4 -q -F -b 4096 \(ext4Options) -d tree root.fs
            dd if=boot.fs of=base.img bs=512 seek=\(bootStart) conv=notrunc,sparse status=none
            dd if=root.fs of=base.img bs=512 seek=\(rootStart) conv=notrunc,sparse status=none
            if [ \(shape.dataFAT) -gt 0 ]; then
                truncate -s \(shape.dataMiB)M data.fs
                mkfs.vfat -F \(shape.dataFAT) -s \(shape.dataClusterSectors) -n DATA data.fs >/dev/null
                mmd -i data.fs ::/bitstreams
                mcopy -i data.fs tree/etc/blob ::/bitstreams/top.bit
                dd if=data.fs of=base.img bs=512 seek=\(dataStart) conv=notrunc,sparse status=none
            fi
            rm -rf tree boot.fs root.fs data.fs config.txt cmdline.txt
            """
        try ProcessRunner.check("bash", ["-c", script], in: dir, environment: ["MTOOLS_SKIP_CHECK": "1"])
        let base = dir.appendingPathComponent("base.img").path
        if shape.compressed {
            try ProcessRunner.check("xz", ["-T1", "-0", base])
            return base + ".xz"
        }
        return base
    }
}
