@testable import DiskFormats
import SystemIO
import Testing

func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

@Suite("FAT boot sector")
struct FATBootSectorTests {
    /// Sector 0 of `mkfs.vfat -F 32 -s 4 -n bootfs -i 1234abcd --invariant` on 256 MiB.
    static let fat32Sector: [UInt8] = {
        var sector = hexBytes("""
            eb58906d6b66732e666174000204200002000000
            00f80000200010000000000000000800fc030000
            000000000200000001000600000000000000000000000000
            800029cdab3412626f6f746673202020202046415433322020200e1fbe777cac
            """)
        sector += [UInt8](repeating: 0, count: 510 - sector.count) + [0x55, 0xAA]
        return sector
    }()

    @Test func decodesFAT32() throws {
        let boot = try #require(try FATBootSector.decode(Self.fat32Sector))
        #expect(boot.kind == .fat32)
        #expect(boot.bytesPerSector == 512)
        #expect(boot.sectorsPerCluster == 4)
        #expect(boot.reservedSectors == 32)
        #expect(boot.fatCount == 2)
        #expect(boot.totalSectors == 524_288)
        #expect(boot.sectorsPerFAT == 1020)
        #expect(boot.rootCluster == 2)
        #expect(boot.fsInfoSector == 1)
        #expect(boot.volumeID == 0x1234_ABCD)
        #expect(boot.label == "bootfs")
        #expect(boot.firstDataSector == 32 + 2 * 1020)
        #expect(boot.clusterCount == (524_288 - 2072) / 4)
        #expect(boot.clusterSize == 2048)
        #expect(boot.mirrored)
    }

    /// Sector 0 of `mkfs.vfat -F 12 --invariant` on 2 MiB: no label ("NO NAME").
    @Test func decodesFAT12() throws {
        var sector = hexBytes("""
            eb3c906d6b66732e6661740002040100 0200020010f8030010000200 00000000
            00000000800029cdab34124e4f204e41 4d45202020204641543132202020 0e1f
            """)
        sector += [UInt8](repeating: 0, count: 510 - sector.count) + [0x55, 0xAA]
        let boot = try #require(try FATBootSector.decode(sector))
        #expect(boot.kind == .fat12)
        #expect(boot.sectorsPerCluster == 4)
        #expect(boot.rootEntryCount == 512)
        #expect(boot.sectorsPerFAT == 3)
        #expect(boot.totalSectors == 4096)
        #expect(boot.label == "")
        #expect(boot.rootDirectorySector == 1 + 2 * 3)
        #expect(boot.firstDataSector == 7 + 32)
    }

    @Test func shortInputIsNil() throws {
        for length in 0..<512 {
            #expect(try FATBootSector.decode(Array(Self.fat32Sector.prefix(length))) == nil)
        }
    }

    @Test func rejectsBadGeometry() {
        var sector = Self.fat32Sector
        sector[13] = 3
        #expect(throws: FATError.badBootSector("sectors per cluster is 3")) { try FATBootSector.decode(sector) }
        sector = Self.fat32Sector
        sector[11] = 0
        sector[12] = 3
        #expect(throws: FATError.badBootSector("bytes per sector is 768")) { try FATBootSector.decode(sector) }
        sector = Self.fat32Sector
        sector[511] = 0
        #expect(throws: FATError.badBootSector("no 55 aa signature at byte 510")) { try FATBootSector.decode(sector) }
    }
}

@Suite("FAT directory entries")
struct FATEntryTests {
    @Test func encodesShortEntry() {
        let entry = FATShortEntry(
            name: Array("CONFIG  TXT".utf8), attributes: 0x20, caseFlags: 0x18,
            firstCluster: 0x0001_2345, size: 0x1234, unixSeconds: 1_700_000_000)
        #expect(entry.encode() == hexBytes("""
            434f4e4649472020545854 20 18 00 aab1 6e57 6e57 0100 aab1 6e57 4523 34120000
            """))
        #expect(FATShortEntry(decoding: entry.encode(), at: 0) == entry)
        #expect(entry.shownName == "config.txt")
        #expect(entry.storedName == "CONFIG.TXT")
    }

    @Test func timestamps() {
        #expect(FATTime.encode(1_700_000_000) == (0x576E, 0xB1AA))
        #expect(FATTime.decode(date: 0x576E, time: 0xB1AA) == 1_700_000_000)
        #expect(FATTime.encode(0) == (0x0021, 0x0000))  // clamped to 1980-01-01
        #expect(FATTime.encode(951_782_400) == (UInt16(20) << 9 | 2 << 5 | 29, 0))  // 2000-02-29
    }

    /// Entries written by mtools' mcopy for "A very long name.txt".
    static let mtoolsEntries = [
        hexBytes("4261006d0065002e0074000f0080780074000000ffffffffffff0000ffffffff"),
        hexBytes("01410020007600650072000f0080790020006c006f006e006700000020006e00"),
    ]

    @Test func encodesLongNameLikeMtools() {
        let short = Array("AVERYL~1TXT".utf8)
        #expect(FATLongName.checksum(short) == 0x80)
        #expect(FATLongName.encode("A very long name.txt", checksum: 0x80) == Self.mtoolsEntries)
    }

    @Test func longNamePaddingAtExactMultiple() {
        let entries = FATLongName.encode("abcdefghijklm", checksum: 7)
        #expect(entries.count == 1)
        #expect(entries[0][0] == 0x41)
        #expect(FATLongName.units(of: entries[0], at: 0) == Array("abcdefghijklm".utf16))
        let padded = FATLongName.encode("ab", checksum: 7)[0]
        #expect(Array(padded[1...10]) == [0x61, 0, 0x62, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func parsesDirectoryWithLongNames() {
        var bytes = Self.mtoolsEntries.flatMap { $0 }
        bytes += FATShortEntry(
            name: Array("AVERYL~1TXT".utf8), attributes: 0x20, caseFlags: 0, firstCluster: 2, size: 3,
            unixSeconds: 1_700_000_000).encode()
        bytes += FATShortEntry(
            name: Array("CMDLINE TXT".utf8), attributes: 0x20, caseFlags: 0x18, firstCluster: 3, size: 4,
            unixSeconds: 1_700_000_000).encode()
        bytes += [UInt8](repeating: 0, count: 64)
        let directory = FATDirectory(storage: .fixed(offset: 0), bytes: bytes, cluster: 0, path: "")
        let records = directory.records()
        #expect(records.map(\.name) == ["A very long name.txt", "cmdline.txt"])
        #expect(records[0].firstSlot == 0 && records[0].shortSlot == 2)
        #expect(records[1].matches("CMDLINE.txt"))
        #expect(directory.freeRun(2) == 4)
        #expect(directory.freeRun(3) == nil)
        #expect(directory.isShortNameTaken(Array("CMDLINE TXT".utf8)))

        var broken = bytes
        broken[13] = 0x81  // checksum of the first long name entry no longer matches
        let orphan = FATDirectory(storage: .fixed(offset: 0), bytes: broken, cluster: 0, path: "")
        #expect(orphan.records().map(\.name) == ["AVERYL~1.TXT", "cmdline.txt"])
    }

    @Test func parsesDirectoryChunkBySlot() {
        let full = Self.mtoolsEntries.flatMap { $0 } + FATShortEntry(
            name: Array("AVERYL~1TXT".utf8), attributes: 0x20, caseFlags: 0, firstCluster: 2, size: 3,
            unixSeconds: 0).encode()
        for slots in 0...3 {
            let directory = FATDirectory(storage: .fixed(offset: 0), bytes: Array(full.prefix(32 * slots)), cluster: 0, path: "")
            #expect(directory.records().map(\.name) == (slots == 3 ? ["A very long name.txt"] : []))
        }
    }
}

@Suite("FAT short names")
struct FATShortNameTests {
    func plan(_ name: String, taken: Set<String> = []) -> (String, UInt8, Bool) {
        let p = FATShortName.plan(for: name) { taken.contains(String(decoding: $0, as: UTF8.self)) }
        return (String(decoding: p.name, as: UTF8.self), p.caseFlags, p.needsLongName)
    }

    @Test func exactNames() {
        #expect(plan("CONFIG.TXT") == ("CONFIG  TXT", 0, false))
        #expect(plan("config.txt") == ("CONFIG  TXT", 0x18, false))
        #expect(plan("config.TXT") == ("CONFIG  TXT", 0x08, false))
        #expect(plan("start4.elf") == ("START4  ELF", 0x18, false))
        #expect(plan("ssh") == ("SSH        ", 0x08, false))
        #expect(plan("ReadMe.md") == ("README  MD ", 0, true))
    }

    @Test func lossyNamesGetTails() {
        #expect(plan("bcm2711-rpi-4-b.dtb") == ("BCM271~1DTB", 0, true))
        #expect(plan("bcm2711-rpi-4-b.dtb", taken: ["BCM271~1DTB"]) == ("BCM271~2DTB", 0, true))
        #expect(plan("dwc2.dtbo") == ("DWC2~1  DTB", 0, true))
        #expect(plan("a+b.txt") == ("A_B~1   TXT", 0, true))
        #expect(plan(".bashrc") == ("BASHRC~1   ", 0, true))
        #expect(plan("my file.txt") == ("MYFILE~1TXT", 0, true))
        #expect(plan("Ünï.txt") == ("_N_~1   TXT", 0, true))
    }

    @Test func afterNineTailsUsesHash() {
        let taken = Set((1...9).map { "LONGFI~\($0)TXT" })
        let (name, _, long) = plan("longfilename.txt", taken: taken)
        #expect(long)
        #expect(name.hasPrefix("LO") && name.hasSuffix("~1TXT") && name.count == 11)
        #expect(plan("longfilename.txt", taken: taken) == plan("longfilename.txt", taken: taken))
    }

    @Test func invalidLongNames() {
        #expect(FATLongName.problem(with: "ok name.txt") == nil)
        #expect(FATLongName.problem(with: "a:b") == "contains ':'")
        #expect(FATLongName.problem(with: "trailing.") == "ends in a dot or a space")
        #expect(FATLongName.problem(with: String(repeating: "x", count: 256)) == "longer than 255 UTF-16 units")
        #expect(FATLongName.problem(with: "") == "empty")
    }
}

@Suite("FAT table")
struct FATTableTests {
    @Test func fat12Packing() {
        var table = FATTable(kind: .fat12, bytes: [UInt8](repeating: 0, count: 512), bytesPerSector: 512, clusterCount: 300)
        table[2] = 0xABC
        table[3] = 0x123
        #expect(Array(table.bytes[3...5]) == [0xBC, 0x3A, 0x12])
        #expect(table[2] == 0xABC && table[3] == 0x123)
        #expect(table.dirtySectors == [0])
    }

    @Test func fat12StraddlingSectors() {
        var table = FATTable(kind: .fat12, bytes: [UInt8](repeating: 0, count: 1024), bytesPerSector: 512, clusterCount: 600)
        table[341] = 0xFFF
        #expect(table.dirtySectors == [0, 1])
        #expect(table[341] == 0xFFF && table[340] == 0 && table[342] == 0)
        #expect(table.dirtyRuns().map { [$0.first, $0.count] } == [[0, 2]])
    }

    @Test func fat32KeepsHighBits() {
        var bytes = [UInt8](repeating: 0, count: 512)
        bytes[11] = 0xF0
        var table = FATTable(kind: .fat32, bytes: bytes, bytesPerSector: 512, clusterCount: 100)
        table[2] = 0x0FFF_FFFF
        #expect(table[2] == 0x0FFF_FFFF)
        #expect(Array(table.bytes[8...11]) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(table.isEndOfChain(table[2]))
        #expect(table.firstFree(3) == [3, 4, 5])
        #expect(table.freeCount() == 99)
    }

    @Test func runs() {
        #expect(clusterRuns([5, 6, 7, 10, 12, 13]).map { [Int($0.first), $0.count] } == [[5, 3], [10, 1], [12, 2]])
        #expect(ByteRange.merged([
            ByteRange(offset: 10, length: 5), ByteRange(offset: 0, length: 10), ByteRange(offset: 20, length: 1),
        ]) == [ByteRange(offset: 0, length: 15), ByteRange(offset: 20, length: 1)])
    }
}
