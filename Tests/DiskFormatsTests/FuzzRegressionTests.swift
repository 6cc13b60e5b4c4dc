import Foundation
import Testing

@testable import DiskFormats
import SystemIO

/// Inputs found by `make fuzz` (Fuzz/, mk/fuzz.mk) that trapped before their fix, kept in
/// Fixtures/fuzz/ as the fuzz target saw them. Each must now give a clear error.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/\(name)")
        return Array(try Data(contentsOf: url))
    }

    /// `bytes` followed by zeros up to `size` bytes, in a sparse temporary file, as fuzz-mbr
    /// and fuzz-fat hand their input to the readers.
    static func withImage<T>(_ bytes: [UInt8], size: Int, _ body: (ImageFile) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
        return try body(try ImageFile(path: path, writable: true))
    }

    /// fuzz-fat's input format: chunks of `offset u32 LE | length u32 LE | bytes`, laid out
    /// over zeros (Fuzz/fuzz-fat/main.swift).
    static func volume(chunks input: [UInt8]) -> [UInt8] {
        var volume: [UInt8] = [], at = 0
        while input.count - at >= 8 {
            let offset = Int(BytesLE.u32(input, at)), length = Int(BytesLE.u32(input, at + 4))
            let chunk = input[(at + 8)...].prefix(length)
            at += 8 + chunk.count
            if volume.count < offset + chunk.count { volume += [UInt8](repeating: 0, count: offset + chunk.count - volume.count) }
            volume.replaceSubrange(offset..<offset + chunk.count, with: chunk)
        }
        return volume
    }

    /// A directory entry dated 2107 (FAT's last year): its unix time overflowed UInt32 in
    /// `list`. Dates past 2106-02-07T06:28:15Z now read as that moment.
    @Test func fatDateBeyondUInt32Seconds() throws {
        let bytes = Self.volume(chunks: try Self.fixture("fat-date-2107"))
        let boot = try #require(try FATBootSector.decode(Array(bytes.prefix(512))))
        let size = boot.totalSectors * boot.bytesPerSector
        let late = try Self.withImage(bytes, size: size) { image in
            let volume = try FATVolume(image: image, range: ByteRange(offset: 0, length: UInt64(size)))
            var late: [String] = []
            var pending = [""]
            while let path = pending.popLast() {
                // Other directories of this volume are corrupt (and say so): walk what lists.
                for entry in (try? volume.list(path)) ?? [] {
                    let child = path.isEmpty ? entry.name : path + "/" + entry.name
                    if entry.modified == UInt32.max { late.append(child) }
                    if entry.isDirectory, child.split(separator: "/").count < 4 { pending.append(child) }
                }
            }
            return late
        }
        #expect(!late.isEmpty)
        #expect(FATTime.decode(date: 127 << 9 | 12 << 5 | 31, time: 0xBF7D) == UInt32.max)
        #expect(FATTime.decode(date: 126 << 9 | 2 << 5 | 7, time: 6 << 11 | 28 << 5 | 7) == UInt32.max - 1)
    }

    /// A GPT whose partition 3 ends at LBA 2^62.86: its byte range (LBA * 512) overflowed UInt64.
    @Test func gptPartitionPastAnyDisk() throws {
        let bytes = try Self.fixture("gpt-lba-overflow")
        try Self.withImage(bytes, size: 64 << 20) { image in
            #expect(throws: PartitionTableError.gptLBAOutOfRange(what: "partition 3", lba: 8_358_802_956_052_619_776)) {
                try PartitionTable.read(from: image)
            }
        }
    }

    /// The entry array's LBA is checked the same way, before it is turned into a byte offset.
    @Test func gptEntryArrayPastAnyDisk() throws {
        var header = GPTTests.header(entries: GPTTests.entries)
        BytesLE.put32(&header, 76, 0x0040_0000)
        BytesLE.put32(&header, 16, 0)
        BytesLE.put32(&header, 16, GPTCRC32.checksum(Array(header[0..<92])))
        #expect(throws: PartitionTableError.gptLBAOutOfRange(what: "the partition entry array", lba: 0x0040_0000_0000_0002)) {
            try GPT.decodeHeader(header)
        }
        // fuzz-mbr: a first usable LBA of 0x008b000000000022 overflowed LBA * 512 where the
        // bmap maps the table areas (PartitionTable.tableAreas).
        for offset in [40, 48] {
            var usable = GPTTests.header(entries: GPTTests.entries)
            BytesLE.put32(&usable, offset, 0x22)
            BytesLE.put32(&usable, offset + 4, 0x008b_0000)
            BytesLE.put32(&usable, 16, 0)
            BytesLE.put32(&usable, 16, GPTCRC32.checksum(Array(usable[0..<92])))
            #expect(throws: PartitionTableError.gptLBAOutOfRange(what: offset == 40 ? "the first usable LBA" : "the last usable LBA",
                                                                 lba: 0x008b_0000_0000_0022)) {
                try GPT.decodeHeader(usable)
            }
        }
        #expect(PartitionTableError.gptLBAOutOfRange(what: "partition 3", lba: 1 << 60).description
            == "GPT partition 3 reaches LBA 1152921504606846976, past the end of any disk")
    }

    /// fuzz-ext4 (issue 22's size check): a 64bit superblock whose block count times its block
    /// size passes 2^64 trapped on the multiplication; it has no size, and Ext4Volume refuses it
    /// as larger than any partition.
    @Test func ext4SizeBeyondUInt64() throws {
        let superblock = try #require(Ext4Superblock(bytes: try Self.fixture("ext4-size-overflow")))
        #expect(superblock.byteSize == nil)
        var exact = [UInt8](repeating: 0, count: 0x154)
        exact[0x38] = 0x53; exact[0x39] = 0xEF; exact[0x60] = 0x80  // magic, 64bit
        BytesLE.put32(&exact, 0x04, 1); BytesLE.put32(&exact, 0x150, 1); BytesLE.put32(&exact, 0x18, 2)
        #expect(Ext4Superblock(bytes: exact)?.byteSize == ((1 << 32) + 1) * 4096)
    }
}
