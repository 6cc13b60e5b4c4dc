import Foundation
import Testing
import TestSupport

/// Helpers for the ext4 and bmap integration tests: building partitioned images with an ext4 rootfs made by `mkfs.ext4 -d`.
enum Ext4Tools {
    /// Byte offset of the rootfs partition in images made by `makeImage`.
    static let partitionOffset: UInt64 = 1 << 20

    /// Makes `dir/disk.img`: an MBR (sfdisk) with one Linux partition at 1 MiB holding
    /// an ext4 filesystem of `megabytes` MiB made by `mkfs.ext4 <options> -d tree`, where
    /// the tree is shaped like Debian's merged /usr (`lib -> usr/lib`) and holds a copy
    /// of the host's `/usr/bin/env`, a 300 kB file and two hard links to one inode.
    static func makeImage(in dir: URL, mkfsOptions: [String], megabytes: Int = 64) throws -> String {
        let tree = dir.appendingPathComponent("tree")
        let fm = FileManager.default
        for sub in ["usr/lib/systemd/system", "usr/bin", "etc/systemd/system", "var/lib/dpkg"] {
            try fm.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fm.createSymbolicLink(atPath: tree.appendingPathComponent("lib").path, withDestinationPath: "usr/lib")
        try fm.createSymbolicLink(atPath: tree.appendingPathComponent("bin").path, withDestinationPath: "usr/bin")
        try fm.copyItem(atPath: "/usr/bin/env", toPath: tree.appendingPathComponent("usr/bin/env").path)
        try Data("stock-host\n".utf8).write(to: tree.appendingPathComponent("etc/hostname"))
        try Data(repeating: 0x5A, count: 300_000).write(to: tree.appendingPathComponent("etc/big.bin"))
        try Data("shared\n".utf8).write(to: tree.appendingPathComponent("etc/hard-a"))
        try fm.linkItem(atPath: tree.appendingPathComponent("etc/hard-a").path, toPath: tree.appendingPathComponent("etc/hard-b").path)

        let fs = dir.appendingPathComponent("rootfs.ext4").path
        try ProcessRunner.check("truncate", ["-s", "\(megabytes)M", fs])
        try ProcessRunner.check("mkfs.ext4", ["-q", "-F", "-E", "root_owner=0:0"] + mkfsOptions + ["-d", tree.path, fs])

        let image = dir.appendingPathComponent("disk.img").path
        try ProcessRunner.check("truncate", ["-s", "\(megabytes + 2)M", image])
        let script = dir.appendingPathComponent("layout.sfdisk")
        try Data("label: dos\nlabel-id: 0x1234abcd\nstart=2048, size=\(megabytes * 2048), type=83\n".utf8).write(to: script)
        try ProcessRunner.check("sh", ["-c", "sfdisk -q '\(image)' < '\(script.path)'"])
        try ProcessRunner.check("dd", ["if=\(fs)", "of=\(image)", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"])
        return image
    }

    /// Copies the partition out of the image so that e2fsck and debugfs can read it.
    static func extractPartition(_ image: String, to path: String, megabytes: Int = 64) throws {
        try ProcessRunner.check("dd", ["if=\(image)", "of=\(path)", "bs=1M", "skip=1", "count=\(megabytes)", "status=none"])
    }

    static func debugfs(_ fs: String, _ request: String) throws -> String {
        try ProcessRunner.check("debugfs", ["-R", request, fs]).stdout
    }

    /// debugfs output with runs of spaces folded, for stable `contains` checks.
    static func folded(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
