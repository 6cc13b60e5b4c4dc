import DiskFormats
import Ext4FS
import Foundation
import BootFiles

/// What `fpga-lab inspect` shows of an image: partitions, filesystems and their features,
/// config.txt as each board sees it, and the fpga-lab manifest if the image has one.
public struct ImageInspection {
    public struct FileSystem {
        public var partition: Partition
        public var description: String
    }

    public var size: UInt64
    public var table: PartitionTable
    public var fileSystems: [FileSystem]
    public var arch: ELFArch?
    public var configTxt: ConfigTxt?
    public var cmdline: String?
    public var manifest: String?
    /// How the image boots the first time (nil: no bootfs or rootfs to tell).
    public var firstBoot: FirstBoot?

    /// Reads `path` (a raw image; open read-only, nothing is written).
    public init(path: String) throws {
        let file = try ImageFile(path: path, writable: false)
        size = file.size
        table = try PartitionTable.read(from: file)
        fileSystems = []
        var bootVolume: FATVolume?
        if let boot = table.bootPartition {
            let volume = try FATVolume(image: file, range: boot.range)
            bootVolume = volume
            fileSystems.append(FileSystem(partition: boot, description: "\(volume.kind) \"\(volume.label)\", \(volume.clusterSize)-byte clusters, \(volume.freeClusterCount) free"))
            configTxt = try volume.readFile("config.txt").map { ConfigTxt(bytes: $0) }
            cmdline = try volume.readFile("cmdline.txt").map { String(decoding: $0, as: UTF8.self) }
        }
        if let root = table.rootPartition {
            let block = try file.read(at: root.range.offset + Ext4Superblock.offset, count: Ext4Superblock.size)
            guard let superblock = Ext4Superblock(bytes: block) else {
                throw Ext4Error.notExt4(path: path, offset: root.range.offset)
            }
            fileSystems.append(FileSystem(partition: root, description: "ext4, features: \(superblock.featureNames.joined(separator: " "))"))
            let volume = try Ext4Volume(imagePath: path, range: root.range, writable: false)
            arch = try? ELFArch.detect(in: volume)
            manifest = try volume.readFile(Manifest.path).map { String(decoding: $0, as: UTF8.self) }
            if let bootVolume {
                firstBoot = try FirstBoot.detect(boot: bootVolume, root: volume)
            }
        }
    }

    /// Boards grouped by the config.txt settings they apply, in Board order.
    public func configTxtByBoard() -> [(boards: [Board], settings: [String])] {
        guard let configTxt else { return [] }
        var groups: [(boards: [Board], settings: [String])] = []
        for board in Board.models {
            let settings = configTxt.settings(seenBy: board).map { "\($0.key)=\($0.value)" }
            if let index = groups.firstIndex(where: { $0.settings == settings }) {
                groups[index].boards.append(board)
            } else {
                groups.append(([board], settings))
            }
        }
        return groups
    }
}
