/// Errors of the partition table readers.
public enum PartitionTableError: Error, Equatable, CustomStringConvertible {
    case tooSmall(imageSize: UInt64)
    case noSignature(found: [UInt8])
    case badBootFlag(partition: Int, flag: UInt8)
    case overlapsTable(partition: Int)
    case pastEnd(partition: Int, end: UInt64, imageSize: UInt64)
    case overlap(first: Int, second: Int)
    case gptSignature
    case gptHeaderSize(Int)
    case gptHeaderCRC
    case gptEntriesCRC
    case gptEntryLayout(count: UInt32, size: UInt32)
    case gptEntryBackwards(partition: Int)
    case gptLBAOutOfRange(what: String, lba: UInt64)
    case noBootPartition(found: String)
    case noRootPartition(found: String)

    public var description: String {
        switch self {
        case let .tooSmall(size): "the image is \(size) bytes, too small to hold a partition table"
        case let .noSignature(found):
            "no partition table: sector 0 ends in \(found.map { String($0, radix: 16) }), not 55 aa"
        case let .badBootFlag(p, flag): "partition \(p) has boot flag 0x\(String(flag, radix: 16)), not 0x00 or 0x80"
        case let .overlapsTable(p): "partition \(p) starts at sector 0, over the partition table"
        case let .pastEnd(p, end, size): "partition \(p) ends at byte \(end), past the end of the image (\(size) bytes)"
        case let .overlap(a, b): "partitions \(a) and \(b) overlap"
        case .gptSignature: "protective MBR but no GPT header (\"EFI PART\") at LBA 1"
        case let .gptHeaderSize(size): "GPT header size \(size) is not between 92 and 512"
        case .gptHeaderCRC: "GPT header CRC32 does not match"
        case .gptEntriesCRC: "GPT partition entry array CRC32 does not match"
        case let .gptEntryLayout(count, size): "GPT entry array of \(count) entries of \(size) bytes is not supported"
        case let .gptEntryBackwards(p): "GPT partition \(p) ends before it starts"
        case let .gptLBAOutOfRange(what, lba): "GPT \(what) reaches LBA \(lba), past the end of any disk"
        case let .noBootPartition(found): "no FAT boot partition (FAT type or label bootfs/boot); partitions: \(found)"
        case let .noRootPartition(found): "no ext4 root partition (Linux type); partitions: \(found)"
        }
    }
}

/// A partition of either table kind.
public struct Partition: Equatable, Sendable, CustomStringConvertible {
    /// What kind of partition the table says it is.
    public enum Kind: Equatable, Sendable {
        case mbr(UInt8)
        case gpt(GUID)
    }

    /// 1-based partition number (the N of /dev/sdaN).
    public var index: Int
    /// Bytes of the partition within the image.
    public var range: ByteRange
    public var kind: Kind
    /// MBR boot flag; false on GPT.
    public var bootable: Bool
    /// GPT partition name; empty on MBR.
    public var name: String
    /// PARTUUID as the kernel's `root=PARTUUID=` expects: "1a2b3c4d-02" on MBR, the
    /// lower-case unique GUID on GPT.
    public var partUUID: String

    public var description: String {
        switch kind {
        case let .mbr(type): "\(index) (type 0x\(String(type, radix: 16)) at byte \(range.offset))"
        case let .gpt(guid): "\(index) (\(name.isEmpty ? guid.description : name) at byte \(range.offset))"
        }
    }
}

/// The partitions of a disk image and the two that matter: the FAT boot and ext4 root.
public struct PartitionTable: Equatable, Sendable {
    public enum Scheme: Equatable, Sendable { case mbr, gpt }

    public var scheme: Scheme
    /// MBR disk signature as 8 hex digits, or the GPT disk GUID.
    public var diskIdentifier: String
    public var partitions: [Partition]
    /// The FAT boot partition, if one was recognised.
    public var bootPartition: Partition?
    /// The ext4 root partition, if one was recognised.
    public var rootPartition: Partition?
    /// Where the partition table itself lives, to be mapped whatever its bytes: the MBR sector;
    /// on GPT everything before the first usable LBA (protective MBR, primary header, primary
    /// entry array) and everything after the last usable one (backup entry array and header).
    ///
    ///     LBA 0     1        2 ... firstUsable-1   firstUsable ... lastUsable   ... last
    ///     | MBR | header | entries (often zeros) | partitions              | entries | header |
    ///     \________________ mapped ______________/                         \____ mapped ____/
    public var tableAreas: [ByteRange] = []

    /// The boot partition, or an error naming the partitions that were found.
    public func boot() throws -> Partition {
        guard let bootPartition else { throw PartitionTableError.noBootPartition(found: summary) }
        return bootPartition
    }

    /// The root partition, or an error naming the partitions that were found.
    public func root() throws -> Partition {
        guard let rootPartition else { throw PartitionTableError.noRootPartition(found: summary) }
        return rootPartition
    }

    private var summary: String {
        partitions.isEmpty ? "none" : partitions.map(\.description).joined(separator: ", ")
    }

    /// Reads and validates the MBR, and the GPT behind a protective MBR.
    public static func read(from image: ImageFile) throws -> PartitionTable {
        let size = image.size
        guard size >= 1024 else { throw PartitionTableError.tooSmall(imageSize: size) }
        guard let mbr = try MBR.decode(image.read(at: 0, count: MBR.sectorSize)) else {
            throw PartitionTableError.tooSmall(imageSize: size)
        }
        if mbr.isProtective { return try readGPT(from: image) }
        try mbr.validate(imageSize: size)
        let signature = String(mbr.diskSignature, radix: 16)
        let padded = String(repeating: "0", count: 8 - signature.count) + signature
        let partitions = mbr.usedEntries.map { entry in
            Partition(
                index: entry.index, range: entry.range, kind: .mbr(entry.type), bootable: entry.bootable,
                name: "", partUUID: padded + "-" + (entry.index < 10 ? "0" : "") + String(entry.index))
        }
        let fats = partitions.filter { if case let .mbr(t) = $0.kind { MBR.fatTypes.contains(t) } else { false } }
        let linux = partitions.filter { $0.kind == .mbr(MBR.linuxType) }
        return PartitionTable(
            scheme: .mbr, diskIdentifier: padded, partitions: partitions,
            bootPartition: pickBoot(fats, image: image, requireFAT: false),
            rootPartition: pickRoot(linux, image: image),
            tableAreas: [ByteRange(offset: 0, length: UInt64(MBR.sectorSize))])
    }

    private static func readGPT(from image: ImageFile) throws -> PartitionTable {
        guard let header = try GPT.decodeHeader(image.read(at: 512, count: 512)) else {
            throw PartitionTableError.gptSignature
        }
        let arrayEnd = header.entriesLBA * 512 + UInt64(header.entriesByteCount)
        guard arrayEnd <= image.size else {
            throw PartitionTableError.pastEnd(partition: 0, end: arrayEnd, imageSize: image.size)
        }
        let bytes = try image.read(at: header.entriesLBA * 512, count: header.entriesByteCount)
        guard let gpt = try GPT.decode(header: header, entries: bytes) else { throw PartitionTableError.gptEntriesCRC }
        try gpt.validate(imageSize: image.size)
        let partitions = gpt.entries.map { entry in
            Partition(
                index: entry.index, range: entry.range, kind: .gpt(entry.typeGUID), bootable: false,
                name: entry.name, partUUID: entry.uniqueGUID.description)
        }
        let fats = partitions.filter { $0.kind == .gpt(.basicData) || $0.kind == .gpt(.efiSystem) }
        let linux = partitions.filter {
            $0.kind == .gpt(.linuxFilesystem) || $0.kind == .gpt(.linuxRootARM64) || $0.kind == .gpt(.linuxRootX86_64)
        }
        let backup = min((gpt.lastUsableLBA + 1) * 512, image.size)
        return PartitionTable(
            scheme: .gpt, diskIdentifier: gpt.diskGUID.description, partitions: partitions,
            bootPartition: pickBoot(fats, image: image, requireFAT: true),
            rootPartition: pickRoot(linux, image: image),
            tableAreas: [ByteRange(offset: 0, length: min(gpt.firstUsableLBA * 512, image.size)),
                         ByteRange(offset: backup, length: image.size - backup)])
    }

    /// Among FAT-typed candidates, the first labelled bootfs/boot (GPT name or FAT label),
    /// else the first holding a FAT boot sector (else, on MBR, the first candidate).
    private static func pickBoot(_ candidates: [Partition], image: ImageFile, requireFAT: Bool) -> Partition? {
        let labels: Set<String> = ["bootfs", "boot"]
        var firstFAT: Partition?
        for partition in candidates {
            let sector = try? image.read(at: partition.range.offset, count: 512)
            let bpb = sector.flatMap { try? FATBootSector.decode($0) }
            if labels.contains(partition.name.lowercased()) && (bpb != nil || !requireFAT) { return partition }
            if let bpb {
                if labels.contains(bpb.label.lowercased()) { return partition }
                if firstFAT == nil { firstFAT = partition }
            }
        }
        return firstFAT ?? (requireFAT ? nil : candidates.first)
    }

    /// Among Linux-typed candidates, the first holding an ext2/3/4 superblock magic (0xEF53 at
    /// byte 1080), else the first candidate.
    private static func pickRoot(_ candidates: [Partition], image: ImageFile) -> Partition? {
        for partition in candidates where partition.range.length >= 2048 {
            if let magic = try? image.read(at: partition.range.offset + 1080, count: 2), magic == [0x53, 0xEF] {
                return partition
            }
        }
        return candidates.first
    }
}
