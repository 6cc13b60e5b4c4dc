/// The three FAT variants, told apart by cluster count as the Linux kernel and dosfstools do.
public enum FATKind: String, Equatable, Sendable {
    case fat12, fat16, fat32

    /// Bits per FAT entry.
    var entryBits: Int {
        switch self {
        case .fat12: 12
        case .fat16: 16
        case .fat32: 32
        }
    }

    /// The end-of-chain value written by this implementation.
    var endOfChain: UInt32 {
        switch self {
        case .fat12: 0xFFF
        case .fat16: 0xFFFF
        case .fat32: 0x0FFF_FFFF
        }
    }

    /// The bad-cluster marker; values above it end a chain.
    var badCluster: UInt32 { endOfChain - 8 }
}

/// Errors of the FAT reader and writer. `volume` is the volume label (or "FAT volume").
public enum FATError: Error, Equatable, CustomStringConvertible {
    case badBootSector(String)
    case volumeBeyondPartition(volumeBytes: UInt64, partitionBytes: UInt64)
    case notFound(volume: String, path: String)
    case notADirectory(volume: String, path: String)
    case isADirectory(volume: String, path: String)
    case invalidName(volume: String, name: String, reason: String)
    case noSpace(volume: String, path: String, need: Int, free: Int)
    case rootDirectoryFull(volume: String, path: String, entries: Int)
    case directoryFull(volume: String, path: String)
    case fileTooLarge(volume: String, path: String, size: Int)
    case corruptChain(volume: String, cluster: UInt32, reason: String)
    case corruptFile(volume: String, path: String, reason: String)

    public var description: String {
        switch self {
        case let .badBootSector(reason): "not a FAT file system: \(reason)"
        case let .volumeBeyondPartition(volume, partition):
            "the FAT volume claims \(volume) bytes but its partition holds \(partition) bytes"
        case let .notFound(v, path): "\(v): \(path): no such file or directory"
        case let .notADirectory(v, path): "\(v): \(path): not a directory"
        case let .isADirectory(v, path): "\(v): \(path): is a directory"
        case let .invalidName(v, name, reason): "\(v): invalid name \"\(name)\": \(reason)"
        case let .noSpace(v, path, need, free): "\(v): no space for \(path): need \(need) clusters, \(free) free"
        case let .rootDirectoryFull(v, path, entries):
            "\(v): no space for \(path): the root directory is full (\(entries) entries, fixed size on FAT12/16)"
        case let .directoryFull(v, path): "\(v): no space for \(path): the directory has 65536 entries, the FAT maximum"
        case let .fileTooLarge(v, path, size): "\(v): \(path) is \(size) bytes; FAT files end at 4 GiB - 1"
        case let .corruptChain(v, cluster, reason): "\(v): corrupt cluster chain at cluster \(cluster): \(reason)"
        case let .corruptFile(v, path, reason): "\(v): \(path): \(reason)"
        }
    }
}

/// A file or directory as `FATVolume.list(_:)` reports it.
public struct FATDirectoryEntry: Equatable, Sendable {
    /// The long name when there is one, else the short name shown with its case flags.
    public var name: String
    /// The 8.3 name as stored ("CONFIG.TXT", "LONGFI~1.TXT").
    public var shortName: String
    public var isDirectory: Bool
    /// Size in bytes (0 for directories).
    public var size: UInt32
    /// First cluster (0 for an empty file).
    public var firstCluster: UInt32
    /// Last modification, unix seconds (FAT stores local time at 2 s resolution; read as UTC).
    public var modified: UInt32
    /// Raw attribute byte (0x01 read-only, 0x02 hidden, 0x04 system, 0x10 directory, 0x20 archive).
    public var attributes: UInt8
}
