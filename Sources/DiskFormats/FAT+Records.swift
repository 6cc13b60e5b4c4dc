/// A directory loaded whole into memory: the fixed root of FAT12/16, or a cluster chain.
struct FATDirectory {
    enum Storage {
        /// FAT12/16 root: a fixed region at this volume-relative byte offset.
        case fixed(offset: UInt64)
        /// Any other directory (and the FAT32 root): these clusters in chain order.
        case clusters([UInt32])
    }

    /// One named entry: its long name entries (if any) and the short entry after them.
    struct Record {
        /// Slot of the first long name entry, or of the short entry when there is none.
        var firstSlot: Int
        var shortSlot: Int
        var entry: FATShortEntry
        var longName: String?

        var name: String { longName ?? entry.shownName }

        func matches(_ wanted: String) -> Bool {
            let upper = wanted.uppercased()
            return longName?.uppercased() == upper || entry.storedName == upper
        }

        var publicEntry: FATDirectoryEntry {
            FATDirectoryEntry(
                name: name, shortName: entry.storedName, isDirectory: entry.isDirectory,
                size: entry.size, firstCluster: entry.firstCluster,
                modified: FATTime.decode(date: entry.modificationDate, time: entry.modificationTime),
                attributes: entry.attributes)
        }
    }

    var storage: Storage
    var bytes: [UInt8]
    /// Cluster that `..` of a child names: 0 for the root (also on FAT32).
    var cluster: UInt32
    /// Path from the root, for messages ("" for the root).
    var path: String

    var slotCount: Int { bytes.count / FATShortEntry.size }

    /// Named entries in slot order, without `.`, `..`, deleted entries and the volume label.
    /// Long name runs whose ordinals or checksum do not fit their short entry are ignored.
    func records() -> [Record] {
        var records: [Record] = []
        var pending: [UInt16] = [], expected = 0, checksum: UInt8 = 0, start = 0
        for slot in 0..<slotCount {
            let base = slot * FATShortEntry.size
            let first = bytes[base], attributes = bytes[base + 11]
            if first == 0x00 { break }
            if first == 0xE5 {
                pending = []
                expected = 0
                continue
            }
            if attributes & 0x3F == FATLongName.attributes {
                let ordinal = Int(first & 0x1F)
                if first & 0x40 != 0 {
                    pending = FATLongName.units(of: bytes, at: base)
                    expected = ordinal - 1
                    checksum = bytes[base + 13]
                    start = slot
                } else if expected > 0, ordinal == expected, bytes[base + 13] == checksum {
                    pending = FATLongName.units(of: bytes, at: base) + pending
                    expected -= 1
                } else {
                    expected = -1
                }
                continue
            }
            let entry = FATShortEntry(decoding: bytes, at: base)
            let hasLong = expected == 0 && !pending.isEmpty && FATLongName.checksum(entry.name) == checksum
            defer { pending = []; expected = 0 }
            if attributes & FATShortEntry.attrVolumeLabel != 0 { continue }
            if entry.name[0] == UInt8(ascii: "."), entry.name[1...].allSatisfy({ $0 == 0x20 || $0 == UInt8(ascii: ".") }) {
                continue
            }
            records.append(Record(
                firstSlot: hasLong ? start : slot, shortSlot: slot, entry: entry,
                longName: hasLong ? String(decoding: pending, as: UTF16.self) : nil))
        }
        return records
    }

    /// The volume label entry's name, if the directory holds one.
    func volumeLabel() -> String? {
        for slot in 0..<slotCount {
            let base = slot * FATShortEntry.size
            if bytes[base] == 0x00 { break }
            if bytes[base] != 0xE5, bytes[base + 11] & 0x3F != FATLongName.attributes,
                bytes[base + 11] & FATShortEntry.attrVolumeLabel != 0 {
                let name = bytes[base..<base + 11].reversed().drop { $0 == 0x20 }.reversed()
                return String(decoding: name, as: UTF8.self)
            }
        }
        return nil
    }

    /// The first slot of `count` consecutive free slots (deleted, or from the end marker on).
    func freeRun(_ count: Int) -> Int? {
        var runStart = 0, runLength = 0
        for slot in 0..<slotCount {
            let first = bytes[slot * FATShortEntry.size]
            if first == 0x00 {
                return slotCount - slot + runLength >= count ? slot - runLength : nil
            }
            if first == 0xE5 {
                if runLength == 0 { runStart = slot }
                runLength += 1
                if runLength == count { return runStart }
            } else {
                runLength = 0
            }
        }
        return nil
    }

    /// Whether some entry already uses the 11-byte short name.
    func isShortNameTaken(_ name: [UInt8]) -> Bool {
        for slot in 0..<slotCount {
            let base = slot * FATShortEntry.size
            if bytes[base] == 0x00 { return false }
            if bytes[base] != 0xE5, bytes[base + 11] & 0x3F != FATLongName.attributes,
                Array(bytes[base..<base + 11]) == name {
                return true
            }
        }
        return false
    }

    /// Writes `entries` (32 bytes each) from `slot` on; if they cover the end marker, the slot
    /// after them becomes the new end marker.
    mutating func put(_ entries: [[UInt8]], at slot: Int) {
        let wasEnd = (slot..<slot + entries.count).contains { bytes[$0 * FATShortEntry.size] == 0x00 }
        for (i, entry) in entries.enumerated() {
            let base = (slot + i) * FATShortEntry.size
            bytes.replaceSubrange(base..<base + FATShortEntry.size, with: entry)
        }
        let after = slot + entries.count
        if wasEnd, after < slotCount { bytes[after * FATShortEntry.size] = 0x00 }
    }
}
