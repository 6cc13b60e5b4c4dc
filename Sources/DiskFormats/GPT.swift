/// A GUID Partition Table (primary header at LBA 1, 512-byte logical sectors).
///
/// ```
/// header (LBA 1)                        entry (entrySize bytes, usually 128)
/// 0   8  "EFI PART"                     0   16 partition type GUID
/// 8   4  revision                       16  16 unique partition GUID (PARTUUID)
/// 12  4  header size (92)               32   8 first LBA
/// 16  4  CRC32 of the header            40   8 last LBA (inclusive)
/// 24  8  this LBA                       48   8 attributes
/// 32  8  alternate LBA                  56  72 name, UTF-16LE, NUL padded
/// 40  8  first usable LBA
/// 48  8  last usable LBA
/// 56 16  disk GUID
/// 72  8  entries LBA
/// 80  4  number of entries
/// 84  4  entry size
/// 88  4  CRC32 of the entry array
/// ```
/// GUIDs are stored mixed-endian: the first three fields little-endian, the rest as bytes.
public struct GPT: Equatable, Sendable {
    /// One used partition entry.
    public struct Entry: Equatable, Sendable {
        /// 1-based slot number in the entry array.
        public var index: Int
        public var typeGUID: GUID
        public var uniqueGUID: GUID
        public var firstLBA: UInt64
        /// Inclusive.
        public var lastLBA: UInt64
        public var attributes: UInt64
        public var name: String

        /// Byte range of the partition within the image.
        public var range: ByteRange {
            ByteRange(offset: firstLBA * 512, length: (lastLBA - firstLBA + 1) * 512)
        }
    }

    /// The header the table was read with.
    public var header: Header
    /// Used entries only, in slot order.
    public var entries: [Entry]

    public var diskGUID: GUID { header.diskGUID }
    public var firstUsableLBA: UInt64 { header.firstUsableLBA }
    public var lastUsableLBA: UInt64 { header.lastUsableLBA }

    /// LBAs from here on lie past 2^63 bytes, beyond any disk (and beyond a file offset): the
    /// decoders refuse them, so byte offsets (LBA * 512) never overflow.
    public static let maxLBA: UInt64 = 1 << 54

    /// The header fields needed to find the entry array.
    public struct Header: Equatable, Sendable {
        public var diskGUID: GUID
        public var firstUsableLBA: UInt64
        public var lastUsableLBA: UInt64
        public var entriesLBA: UInt64
        public var entryCount: UInt32
        public var entrySize: UInt32
        public var entriesCRC: UInt32

        /// Bytes the entry array occupies.
        public var entriesByteCount: Int { Int(entryCount) * Int(entrySize) }
    }

    /// Decodes the header sector. Nil on short input; throws on a bad signature or CRC.
    public static func decodeHeader(_ sector: [UInt8]) throws -> Header? {
        guard sector.count >= 92 else { return nil }
        guard Array(sector[0..<8]) == Array("EFI PART".utf8) else { throw PartitionTableError.gptSignature }
        let size = Int(BytesLE.u32(sector, 12))
        guard size >= 92, size <= 512 else { throw PartitionTableError.gptHeaderSize(size) }
        guard sector.count >= size else { return nil }
        var copy = Array(sector[0..<size])
        BytesLE.put32(&copy, 16, 0)
        guard GPTCRC32.checksum(copy) == BytesLE.u32(sector, 16) else { throw PartitionTableError.gptHeaderCRC }
        let header = Header(
            diskGUID: GUID(bytes: Array(sector[56..<72])),
            firstUsableLBA: BytesLE.u64(sector, 40), lastUsableLBA: BytesLE.u64(sector, 48),
            entriesLBA: BytesLE.u64(sector, 72), entryCount: BytesLE.u32(sector, 80),
            entrySize: BytesLE.u32(sector, 84), entriesCRC: BytesLE.u32(sector, 88))
        guard header.entrySize >= 128, header.entrySize % 8 == 0, header.entryCount <= 16384 else {
            throw PartitionTableError.gptEntryLayout(count: header.entryCount, size: header.entrySize)
        }
        guard header.entriesLBA < maxLBA else {
            throw PartitionTableError.gptLBAOutOfRange(what: "the partition entry array", lba: header.entriesLBA)
        }
        for (what, lba) in [("the first usable LBA", header.firstUsableLBA), ("the last usable LBA", header.lastUsableLBA)]
        where lba >= maxLBA {
            throw PartitionTableError.gptLBAOutOfRange(what: what, lba: lba)
        }
        return header
    }

    /// Decodes the entry array for `header`. Nil on short input; throws on a CRC mismatch.
    public static func decode(header: Header, entries bytes: [UInt8]) throws -> GPT? {
        guard bytes.count >= header.entriesByteCount else { return nil }
        let array = Array(bytes[0..<header.entriesByteCount])
        guard GPTCRC32.checksum(array) == header.entriesCRC else { throw PartitionTableError.gptEntriesCRC }
        var entries: [Entry] = []
        for slot in 0..<Int(header.entryCount) {
            let base = slot * Int(header.entrySize)
            let type = GUID(bytes: Array(array[base..<base + 16]))
            guard !type.isZero else { continue }
            var units: [UInt16] = []
            for i in stride(from: 56, to: 128, by: 2) {
                let unit = BytesLE.u16(array, base + i)
                if unit == 0 { break }
                units.append(unit)
            }
            let first = BytesLE.u64(array, base + 32), last = BytesLE.u64(array, base + 40)
            guard last >= first else { throw PartitionTableError.gptEntryBackwards(partition: slot + 1) }
            guard last < maxLBA else {
                throw PartitionTableError.gptLBAOutOfRange(what: "partition \(slot + 1)", lba: last)
            }
            entries.append(Entry(
                index: slot + 1, typeGUID: type, uniqueGUID: GUID(bytes: Array(array[base + 16..<base + 32])),
                firstLBA: first, lastLBA: last, attributes: BytesLE.u64(array, base + 48),
                name: String(decoding: units, as: UTF16.self)))
        }
        return GPT(header: header, entries: entries)
    }

    /// Checks that every partition ends inside an image of `imageSize` bytes and overlaps no other.
    public func validate(imageSize: UInt64) throws {
        for entry in entries where entry.range.end > imageSize {
            throw PartitionTableError.pastEnd(partition: entry.index, end: entry.range.end, imageSize: imageSize)
        }
        let sorted = entries.sorted { $0.firstLBA < $1.firstLBA }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.lastLBA >= b.firstLBA {
            throw PartitionTableError.overlap(first: min(a.index, b.index), second: max(a.index, b.index))
        }
    }
}

/// A 16-byte GUID in its on-disk (mixed-endian) byte order.
public struct GUID: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses the text form "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" (any case).
    public init?(_ text: String) {
        let hex = text.filter { $0 != "-" }
        guard hex.count == 32, text.count == 36 else { return nil }
        var raw: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            raw.append(byte)
            index = next
        }
        bytes = [raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]] + raw[8..<16]
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    /// Lower-case text form, as `blkid` prints PARTUUIDs.
    public var description: String {
        let order = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15]
        return order.map { $0 < 0 ? "-" : hex2(bytes[$0]) }.joined()
    }

    /// Linux filesystem data.
    public static let linuxFilesystem = GUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")!
    /// Linux root (x86-64) and root (ARM64) from the Discoverable Partitions Specification.
    public static let linuxRootX86_64 = GUID("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")!
    public static let linuxRootARM64 = GUID("B921B045-1DF0-41C3-AF44-4C6F280D3FAE")!
    /// Microsoft basic data (FAT, NTFS, exFAT).
    public static let basicData = GUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")!
    /// EFI System Partition (FAT).
    public static let efiSystem = GUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")!
}

fileprivate func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as GPT uses it.
enum GPTCRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
