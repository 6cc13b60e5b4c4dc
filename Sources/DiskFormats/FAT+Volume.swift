/// A FAT12/16/32 file system inside a byte range of an image file.
///
/// ```
/// | reserved (boot sector, FSInfo, backup) | FAT 1 | FAT 2 ... | root dir (FAT12/16) | clusters 2... |
/// ```
/// The FAT is read once into memory; changes are written back to every copy (whole changed
/// sectors, batched in runs) and, on FAT32, the FSInfo free count and hint are updated. Every
/// mutating call flushes before it returns. Not thread-safe.
public final class FATVolume {
    let image: ImageFile
    /// Byte range of the volume in the image.
    public let range: ByteRange
    /// The decoded boot sector.
    public let boot: FATBootSector
    var table: FATTable
    /// Free cluster count, kept in step with `table`.
    var freeClusters: Int
    /// Last allocated cluster, written to FSInfo as the next-free hint.
    var lastAllocated: UInt32?

    /// FAT12, FAT16 or FAT32.
    public var kind: FATKind { boot.kind }
    /// The volume label: the root directory's label entry, else the boot sector's.
    public private(set) var label: String = ""
    /// Size of a cluster in bytes.
    public var clusterSize: Int { boot.clusterSize }
    /// Free clusters.
    public var freeClusterCount: Int { freeClusters }

    /// Name used in error messages.
    var volumeName: String { label.isEmpty ? "FAT volume" : label }

    /// Opens the FAT file system at `range` of `image`; throws if the boot sector is not FAT
    /// or the volume is larger than the range.
    public init(image: ImageFile, range: ByteRange) throws {
        self.image = image
        self.range = range
        guard range.length >= 512, let boot = try FATBootSector.decode(image.read(at: range.offset, count: 512)) else {
            throw FATError.badBootSector("the partition holds \(range.length) bytes, less than one sector")
        }
        let volumeBytes = UInt64(boot.totalSectors) * UInt64(boot.bytesPerSector)
        guard volumeBytes <= range.length else {
            throw FATError.volumeBeyondPartition(volumeBytes: volumeBytes, partitionBytes: range.length)
        }
        self.boot = boot
        let fatBytes = boot.sectorsPerFAT * boot.bytesPerSector
        let fatOffset = UInt64((boot.reservedSectors + boot.activeFAT * boot.sectorsPerFAT) * boot.bytesPerSector)
        table = FATTable(
            kind: boot.kind, bytes: try image.read(at: range.offset + fatOffset, count: fatBytes),
            bytesPerSector: boot.bytesPerSector, clusterCount: boot.clusterCount)
        freeClusters = table.freeCount()
        label = try rootDirectory().volumeLabel() ?? boot.label
    }

    /// Writes changed FAT sectors to every FAT copy and, on FAT32, updates FSInfo.
    public func flush() throws {
        let runs = table.dirtyRuns()
        guard !runs.isEmpty else { return }
        let bps = boot.bytesPerSector
        let copies = boot.mirrored ? Array(0..<boot.fatCount) : [boot.activeFAT]
        for copy in copies {
            let fatStart = (boot.reservedSectors + copy * boot.sectorsPerFAT) * bps
            for run in runs {
                let chunk = Array(table.bytes[run.first * bps..<(run.first + run.count) * bps])
                try image.write(chunk, at: range.offset + UInt64(fatStart + run.first * bps))
            }
        }
        table.markClean()
        try writeFSInfo()
    }

    /// FSInfo (FAT32): lead 0x41615252 at 0, 0x61417272 at 484, free count at 488, next free
    /// at 492, trail 0xAA550000 at 508. Left alone when absent or its signatures are wrong.
    private func writeFSInfo() throws {
        guard kind == .fat32, boot.fsInfoSector > 0, boot.fsInfoSector < boot.reservedSectors else { return }
        let offset = range.offset + UInt64(boot.fsInfoSector * boot.bytesPerSector)
        var sector = try image.read(at: offset, count: 512)
        guard BytesLE.u32(sector, 0) == 0x4161_5252, BytesLE.u32(sector, 484) == 0x6141_7272,
            BytesLE.u32(sector, 508) == 0xAA55_0000 else { return }
        BytesLE.put32(&sector, 488, UInt32(freeClusters))
        if let lastAllocated { BytesLE.put32(&sector, 492, lastAllocated) }
        try image.write(sector, at: offset)
    }

    /// Byte ranges (absolute in the image, sorted, merged) that hold file system data: the
    /// reserved sectors, the FATs, the fixed root directory and every allocated cluster.
    public func allocatedRanges() throws -> [ByteRange] {
        let metadata = UInt64(boot.firstDataSector * boot.bytesPerSector)
        var ranges = [ByteRange(offset: range.offset, length: metadata)]
        let size = UInt64(clusterSize)
        var runStart: UInt32? = nil
        for n in 2...table.maxCluster + 1 {
            let used = n <= table.maxCluster && table[n] != 0 && table[n] != kind.badCluster
            if used, runStart == nil { runStart = n }
            if !used, let start = runStart {
                ranges.append(ByteRange(offset: clusterOffset(start), length: UInt64(n - start) * size))
                runStart = nil
            }
        }
        return ByteRange.merged(ranges)
    }

    /// Absolute image offset of cluster `n`.
    func clusterOffset(_ n: UInt32) -> UInt64 {
        range.offset + UInt64(boot.firstDataSector * boot.bytesPerSector) + UInt64(n - 2) * UInt64(clusterSize)
    }

    /// The clusters of the chain starting at `first` (empty for 0).
    func chain(from first: UInt32) throws -> [UInt32] {
        var clusters: [UInt32] = []
        var n = first
        while n != 0 {
            guard (2...table.maxCluster).contains(n) else {
                throw FATError.corruptChain(volume: volumeName, cluster: clusters.last ?? n, reason: "points to \(n), outside 2...\(table.maxCluster)")
            }
            guard clusters.count < boot.clusterCount else {
                throw FATError.corruptChain(volume: volumeName, cluster: first, reason: "the chain loops")
            }
            clusters.append(n)
            let next = table[n]
            if table.isEndOfChain(next) { break }
            guard next != 0, next != kind.badCluster else {
                throw FATError.corruptChain(volume: volumeName, cluster: n, reason: next == 0 ? "points to a free cluster" : "marked bad")
            }
            n = next
        }
        return clusters
    }

    /// Reads whole clusters, one read per run of consecutive clusters.
    func readClusters(_ clusters: [UInt32]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(clusters.count * clusterSize)
        for run in clusterRuns(clusters) {
            bytes += try image.read(at: clusterOffset(run.first), count: run.count * clusterSize)
        }
        return bytes
    }

    /// Writes `bytes` (a whole number of clusters) over `clusters`, one write per run.
    func writeClusters(_ bytes: [UInt8], to clusters: [UInt32]) throws {
        var position = 0
        for run in clusterRuns(clusters) {
            let length = run.count * clusterSize
            try image.write(Array(bytes[position..<position + length]), at: clusterOffset(run.first))
            position += length
        }
    }

    /// The root directory.
    func rootDirectory() throws -> FATDirectory {
        if kind == .fat32 {
            let clusters = try chain(from: boot.rootCluster)
            return FATDirectory(storage: .clusters(clusters), bytes: try readClusters(clusters), cluster: 0, path: "")
        }
        let offset = UInt64(boot.rootDirectorySector * boot.bytesPerSector)
        let bytes = try image.read(at: range.offset + offset, count: boot.rootEntryCount * FATShortEntry.size)
        return FATDirectory(storage: .fixed(offset: offset), bytes: bytes, cluster: 0, path: "")
    }

    /// Writes a directory's bytes back where they came from.
    func store(_ directory: FATDirectory) throws {
        switch directory.storage {
        case let .fixed(offset): try image.write(directory.bytes, at: range.offset + offset)
        case let .clusters(clusters): try writeClusters(directory.bytes, to: clusters)
        }
    }
}
