/// The classic DOS partition table in sector 0 of a disk image.
///
/// ```
/// offset  size  field
/// 0x000   440   bootstrap code
/// 0x1B8     4   disk signature (u32 LE): PARTUUID is "%08x-%02d" of it and the partition number
/// 0x1BC     2   reserved
/// 0x1BE    64   4 primary entries of 16 bytes:
///                 +0  boot flag (0x80 active, 0x00 not)
///                 +1  CHS of first sector (3 bytes, ignored)
///                 +4  partition type (0x0c FAT32 LBA, 0x83 Linux, 0xee GPT protective ...)
///                 +5  CHS of last sector (3 bytes, ignored)
///                 +8  first sector, LBA (u32 LE)
///                 +12 number of sectors (u32 LE)
/// 0x1FE     2   signature 0x55 0xAA
/// ```
public struct MBR: Equatable, Sendable {
    /// Size of the sector the table lives in; MBR LBAs count 512-byte sectors.
    public static let sectorSize = 512

    /// One primary entry of the table.
    public struct Entry: Equatable, Sendable {
        /// 1-based slot number (1...4).
        public var index: Int
        /// Boot flag (byte 0 == 0x80).
        public var bootable: Bool
        /// Partition type byte.
        public var type: UInt8
        /// First sector (LBA, 512-byte sectors).
        public var startLBA: UInt32
        /// Number of sectors.
        public var sectorCount: UInt32

        public init(index: Int, bootable: Bool, type: UInt8, startLBA: UInt32, sectorCount: UInt32) {
            self.index = index
            self.bootable = bootable
            self.type = type
            self.startLBA = startLBA
            self.sectorCount = sectorCount
        }

        /// Byte range of the partition within the image.
        public var range: ByteRange {
            ByteRange(offset: UInt64(startLBA) * 512, length: UInt64(sectorCount) * 512)
        }

        /// An entry of type 0 or with no sectors is unused.
        public var isUsed: Bool { type != 0 && sectorCount != 0 }
    }

    /// Disk signature at 0x1B8.
    public var diskSignature: UInt32
    /// All four primary slots, used or not.
    public var entries: [Entry]

    /// The used entries.
    public var usedEntries: [Entry] { entries.filter(\.isUsed) }

    /// True when the table is a GPT protective MBR (an entry of type 0xEE).
    public var isProtective: Bool { usedEntries.contains { $0.type == 0xEE } }

    /// Decodes sector 0. Returns nil when fewer than 512 bytes are given; throws when the
    /// 55AA signature is missing or a boot flag is neither 0x00 nor 0x80.
    public static func decode(_ sector: [UInt8]) throws -> MBR? {
        guard sector.count >= sectorSize else { return nil }
        guard sector[0x1FE] == 0x55, sector[0x1FF] == 0xAA else {
            throw PartitionTableError.noSignature(found: [sector[0x1FE], sector[0x1FF]])
        }
        var entries: [Entry] = []
        for slot in 0..<4 {
            let base = 0x1BE + slot * 16
            let flag = sector[base]
            guard flag == 0x00 || flag == 0x80 else {
                throw PartitionTableError.badBootFlag(partition: slot + 1, flag: flag)
            }
            entries.append(Entry(
                index: slot + 1, bootable: flag == 0x80, type: sector[base + 4],
                startLBA: BytesLE.u32(sector, base + 8), sectorCount: BytesLE.u32(sector, base + 12)))
        }
        return MBR(diskSignature: BytesLE.u32(sector, 0x1B8), entries: entries)
    }

    /// Checks that every used partition starts after sector 0, ends inside an image of
    /// `imageSize` bytes, and overlaps no other one (GPT protective entries are skipped).
    public func validate(imageSize: UInt64) throws {
        let used = usedEntries.filter { $0.type != 0xEE }
        for entry in used {
            if entry.startLBA == 0 {
                throw PartitionTableError.overlapsTable(partition: entry.index)
            }
            if entry.range.end > imageSize {
                throw PartitionTableError.pastEnd(partition: entry.index, end: entry.range.end, imageSize: imageSize)
            }
        }
        let sorted = used.sorted { $0.startLBA < $1.startLBA }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.range.end > b.range.offset {
            throw PartitionTableError.overlap(first: min(a.index, b.index), second: max(a.index, b.index))
        }
    }

    /// MBR types of FAT file systems: FAT12, FAT16 (<32M), FAT16, FAT32 CHS, FAT32 LBA, FAT16 LBA.
    public static let fatTypes: Set<UInt8> = [0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E]
    /// MBR type of Linux native file systems.
    public static let linuxType: UInt8 = 0x83
}
