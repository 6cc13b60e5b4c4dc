/// One copy of the File Allocation Table held in memory, with the sectors changed since the
/// last flush. Entry n maps cluster n to the next cluster of its chain:
///
/// ```
/// FAT12: 1.5 bytes/entry, offset n + n/2; even n: low 12 bits of the u16, odd n: high 12 bits
///        bytes  [ a1 a0 | b0 a2 | b2 b1 ]  ->  entry 2k = 0xa2a1a0, entry 2k+1 = 0xb2b1b0
/// FAT16: u16 LE at 2n
/// FAT32: u32 LE at 4n, low 28 bits used, high 4 bits kept as found
/// value: 0 free, 2...max next cluster, badCluster bad, above it end of chain
/// ```
struct FATTable {
    let kind: FATKind
    let bytesPerSector: Int
    /// Highest valid cluster number (clusterCount + 1).
    let maxCluster: UInt32
    private(set) var bytes: [UInt8]
    private(set) var dirtySectors: Set<Int> = []

    init(kind: FATKind, bytes: [UInt8], bytesPerSector: Int, clusterCount: Int) {
        self.kind = kind
        self.bytes = bytes
        self.bytesPerSector = bytesPerSector
        self.maxCluster = UInt32(clusterCount + 1)
    }

    /// The entry of cluster `n`.
    subscript(n: UInt32) -> UInt32 {
        get {
            let i = Int(n)
            switch kind {
            case .fat12:
                let offset = i + i / 2
                let pair = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                return i & 1 == 0 ? pair & 0xFFF : pair >> 4
            case .fat16:
                return UInt32(BytesLE.u16(bytes, 2 * i))
            case .fat32:
                return BytesLE.u32(bytes, 4 * i) & 0x0FFF_FFFF
            }
        }
        set {
            let i = Int(n)
            switch kind {
            case .fat12:
                let offset = i + i / 2
                if i & 1 == 0 {
                    bytes[offset] = UInt8(newValue & 0xFF)
                    bytes[offset + 1] = bytes[offset + 1] & 0xF0 | UInt8(newValue >> 8 & 0x0F)
                } else {
                    bytes[offset] = bytes[offset] & 0x0F | UInt8(newValue << 4 & 0xF0)
                    bytes[offset + 1] = UInt8(newValue >> 4 & 0xFF)
                }
                markDirty(offset, 2)
            case .fat16:
                BytesLE.put16(&bytes, 2 * i, UInt16(newValue))
                markDirty(2 * i, 2)
            case .fat32:
                let high = BytesLE.u32(bytes, 4 * i) & 0xF000_0000
                BytesLE.put32(&bytes, 4 * i, high | newValue & 0x0FFF_FFFF)
                markDirty(4 * i, 4)
            }
        }
    }

    private mutating func markDirty(_ offset: Int, _ count: Int) {
        dirtySectors.insert(offset / bytesPerSector)
        dirtySectors.insert((offset + count - 1) / bytesPerSector)
    }

    /// True for a value that ends a chain.
    func isEndOfChain(_ value: UInt32) -> Bool { value > kind.badCluster }

    /// Number of free clusters.
    func freeCount() -> Int {
        var free = 0
        for n in 2...maxCluster where self[n] == 0 { free += 1 }
        return free
    }

    /// The first `count` free clusters in ascending order (fewer if the volume runs out).
    func firstFree(_ count: Int) -> [UInt32] {
        var found: [UInt32] = []
        guard count > 0 else { return found }
        for n in 2...maxCluster where self[n] == 0 {
            found.append(n)
            if found.count == count { break }
        }
        return found
    }

    /// Changed sectors as runs of (first sector, sector count), ascending.
    func dirtyRuns() -> [(first: Int, count: Int)] {
        var runs: [(first: Int, count: Int)] = []
        for sector in dirtySectors.sorted() {
            if let last = runs.last, last.first + last.count == sector {
                runs[runs.count - 1].count += 1
            } else {
                runs.append((sector, 1))
            }
        }
        return runs
    }

    mutating func markClean() { dirtySectors = [] }
}

/// Runs of consecutive clusters: [5, 6, 7, 10] -> [(5, 3), (10, 1)].
func clusterRuns(_ clusters: [UInt32]) -> [(first: UInt32, count: Int)] {
    var runs: [(first: UInt32, count: Int)] = []
    for cluster in clusters {
        if let last = runs.last, last.first + UInt32(last.count) == cluster {
            runs[runs.count - 1].count += 1
        } else {
            runs.append((cluster, 1))
        }
    }
    return runs
}
