@testable import DiskFormats
import SystemIO
import Testing

@Suite("MBR")
struct MBRTests {
    /// Sector 0 of a Raspberry Pi OS image: signature 0x1234abcd, FAT32 LBA at 8192 (512 MiB),
    /// Linux after it.
    static let piSector: [UInt8] = {
        var sector = [UInt8](repeating: 0, count: 512)
        sector.replaceSubrange(0x1B8..<0x1BC, with: [0xCD, 0xAB, 0x34, 0x12])
        sector.replaceSubrange(0x1BE..<0x1CE, with: hexBytes("00 000000 0c 000000 00200000 00001000"))
        sector.replaceSubrange(0x1CE..<0x1DE, with: hexBytes("80 000000 83 000000 00201000 00000200"))
        sector[0x1FE] = 0x55
        sector[0x1FF] = 0xAA
        return sector
    }()

    @Test func decodesEntries() throws {
        let mbr = try #require(try MBR.decode(Self.piSector))
        #expect(mbr.diskSignature == 0x1234_ABCD)
        #expect(mbr.usedEntries == [
            MBR.Entry(index: 1, bootable: false, type: 0x0C, startLBA: 8192, sectorCount: 1_048_576),
            MBR.Entry(index: 2, bootable: true, type: 0x83, startLBA: 1_056_768, sectorCount: 131_072),
        ])
        #expect(!mbr.isProtective)
        #expect(mbr.usedEntries[1].range == ByteRange(offset: 1_056_768 * 512, length: 131_072 * 512))
        try mbr.validate(imageSize: (1_056_768 + 131_072) * 512)
    }

    @Test func shortInputIsNil() throws {
        for length in stride(from: 0, to: 512, by: 7) {
            #expect(try MBR.decode(Array(Self.piSector.prefix(length))) == nil)
        }
        #expect(try MBR.decode(Array(Self.piSector.prefix(511))) == nil)
    }

    @Test func errors() throws {
        var sector = Self.piSector
        sector[0x1FF] = 0
        #expect(throws: PartitionTableError.noSignature(found: [0x55, 0x00])) { try MBR.decode(sector) }
        sector = Self.piSector
        sector[0x1CE] = 0x81
        #expect(throws: PartitionTableError.badBootFlag(partition: 2, flag: 0x81)) { try MBR.decode(sector) }

        let mbr = try #require(try MBR.decode(Self.piSector))
        let end: UInt64 = (1_056_768 + 131_072) * 512
        #expect(throws: PartitionTableError.pastEnd(partition: 2, end: end, imageSize: end - 1)) {
            try mbr.validate(imageSize: end - 1)
        }
        var overlapping = mbr
        overlapping.entries[1].startLBA = 8192 + 1_048_575
        #expect(throws: PartitionTableError.overlap(first: 1, second: 2)) { try overlapping.validate(imageSize: end) }
        var atZero = mbr
        atZero.entries[0].startLBA = 0
        #expect(throws: PartitionTableError.overlapsTable(partition: 1)) { try atZero.validate(imageSize: end) }
        #expect("\(PartitionTableError.pastEnd(partition: 2, end: 100, imageSize: 50))"
            == "partition 2 ends at byte 100, past the end of the image (50 bytes)")
    }
}

@Suite("GPT")
struct GPTTests {
    @Test func guidText() {
        let guid = GUID.efiSystem
        #expect(guid.bytes == hexBytes("28732ac11ff8d211ba4b00a0c93ec93b"))
        #expect(guid.description == "c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
        #expect(GUID("not a guid") == nil)
    }

    @Test func crc32CheckValue() {
        #expect(GPTCRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    /// A header for one 128-byte entry array of 4 entries at LBA 2.
    static func header(entries: [UInt8]) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        h.replaceSubrange(0..<8, with: Array("EFI PART".utf8))
        h.replaceSubrange(8..<12, with: [0, 0, 1, 0])
        BytesLE.put32(&h, 12, 92)
        BytesLE.put32(&h, 24, 1)
        BytesLE.put32(&h, 40, 34)
        BytesLE.put32(&h, 48, 4000)
        h.replaceSubrange(56..<72, with: GUID("0A0B0C0D-1111-2222-3333-444455556666")!.bytes)
        BytesLE.put32(&h, 72, 2)
        BytesLE.put32(&h, 80, 4)
        BytesLE.put32(&h, 84, 128)
        BytesLE.put32(&h, 88, GPTCRC32.checksum(entries))
        BytesLE.put32(&h, 16, GPTCRC32.checksum(Array(h[0..<92])))
        return h
    }

    static let entries: [UInt8] = {
        var e = [UInt8](repeating: 0, count: 512)
        e.replaceSubrange(0..<16, with: GUID.basicData.bytes)
        e.replaceSubrange(16..<32, with: GUID("11111111-2222-3333-4444-555555555555")!.bytes)
        BytesLE.put32(&e, 32, 2048)
        BytesLE.put32(&e, 40, 4095)
        for (i, unit) in "bootfs".utf16.enumerated() { BytesLE.put16(&e, 56 + 2 * i, unit) }
        return e
    }()

    @Test func decodesHeaderAndEntries() throws {
        let header = try #require(try GPT.decodeHeader(Self.header(entries: Self.entries)))
        #expect(header.entriesLBA == 2 && header.entryCount == 4 && header.entrySize == 128)
        let gpt = try #require(try GPT.decode(header: header, entries: Self.entries))
        #expect(gpt.entries.count == 1)
        #expect(gpt.entries[0].name == "bootfs")
        #expect(gpt.entries[0].typeGUID == .basicData)
        #expect(gpt.entries[0].range == ByteRange(offset: 2048 * 512, length: 2048 * 512))
        #expect(gpt.entries[0].uniqueGUID.description == "11111111-2222-3333-4444-555555555555")
    }

    @Test func shortInputIsNil() throws {
        let sector = Self.header(entries: Self.entries)
        for length in 0..<92 { #expect(try GPT.decodeHeader(Array(sector.prefix(length))) == nil) }
        let header = try #require(try GPT.decodeHeader(sector))
        for length in stride(from: 0, to: 512, by: 32) {
            #expect(try GPT.decode(header: header, entries: Array(Self.entries.prefix(length))) == nil)
        }
    }

    @Test func crcMismatches() throws {
        var sector = Self.header(entries: Self.entries)
        sector[40] ^= 1
        #expect(throws: PartitionTableError.gptHeaderCRC) { try GPT.decodeHeader(sector) }
        let header = try #require(try GPT.decodeHeader(Self.header(entries: Self.entries)))
        var entries = Self.entries
        entries[100] = 1
        #expect(throws: PartitionTableError.gptEntriesCRC) { try GPT.decode(header: header, entries: entries) }
    }
}
