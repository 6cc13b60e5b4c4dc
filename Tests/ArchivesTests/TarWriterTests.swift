import Foundation
import Testing
@testable import Archives

@Suite struct TarWriterTests {
    static func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archives-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// ustar header of a file entry, field by field (POSIX.1-1988):
    ///
    ///     0   name[100]   100 mode[8]   108 uid[8]   116 gid[8]   124 size[12]   136 mtime[12]
    ///     148 chksum[8]   156 typeflag   157 linkname[100]   257 magic "ustar\0" 263 version "00"
    ///     265 uname[32]   297 gname[32] ...                   512 data, padded to 512
    @Test func fileEntryGoldenHeader() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/t.tar"
        let writer = try TarWriter(path: path, compression: .none)
        try writer.add(path: "etc/hostname", .file(Array("pi\n".utf8)), mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000)
        try writer.finish()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        func field(_ offset: Int, _ length: Int) -> String {
            String(decoding: bytes[offset..<offset + length].prefix { $0 != 0 }, as: UTF8.self)
        }
        #expect(field(0, 100) == "etc/hostname")
        #expect(field(100, 8) == "000644 ")
        #expect(field(108, 8) == "000000 ")
        #expect(field(124, 12) == "00000000003 ")
        #expect(field(136, 12) == "14524770400 ")
        #expect(bytes[156] == UInt8(ascii: "0"))
        #expect(Array(bytes[257..<265]) == Array("ustar\u{0}00".utf8))
        #expect(field(265, 32) == "root" && field(297, 32) == "root")
        #expect(Array(bytes[512..<515]) == Array("pi\n".utf8))
        let sum = bytes[0..<512].enumerated().reduce(0) { $0 + Int((148..<156).contains($1.offset) ? 32 : $1.element) }
        #expect(field(148, 8) == String(sum, radix: 8).leftPadded(6) + "")
        #expect(bytes.count % 512 == 0)
    }

    @Test func symlinkAndDirectoryEntries() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/t.tar"
        let writer = try TarWriter(path: path, compression: .none)
        try writer.add(path: "etc", .directory, mode: 0o755, uid: 0, gid: 0, mtime: 0)
        try writer.add(path: "etc/l", .symlink("/etc/x"), mode: 0o777, uid: 0, gid: 0, mtime: 0)
        try writer.finish()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes[156] == UInt8(ascii: "5"))
        #expect(bytes[512 + 156] == UInt8(ascii: "2"))
        #expect(String(decoding: bytes[512 + 157..<512 + 163], as: UTF8.self) == "/etc/x")
    }

    @Test(arguments: [Compression.gzip, .xz, .zstd, .bzip2])
    func compressedStreamsReadBack(compression: Compression) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/data.bin"
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 / 5) }
        let writer = try CompressedFileWriter(path: path, compression: compression, size: Int64(payload.count))
        try payload.withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        let reader = try ArchiveReader(source: try FileByteSource(path: path), zip: false, blockSize: 4096)
        #expect(try reader.nextMember() != nil)
        var back = [UInt8](repeating: 0, count: payload.count)
        let length = try reader.readData { block, offset in
            back.replaceSubrange(Int(offset)..<Int(offset) + block.count, with: block)
        }
        #expect(length == Int64(payload.count))
        #expect(back == payload)
    }

    /// Blocks are cut at fixed offsets and compressed independently, so the .xz bytes depend on
    /// the block size, not on how many threads compressed them.
    @Test func xzOutputDoesNotDependOnThreads() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let payload = (0..<600_000).map { index -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return index % 3 == 0 ? UInt8(truncatingIfNeeded: state >> 59) : UInt8(truncatingIfNeeded: index / 1000)
        }
        var outputs: [[UInt8]] = []
        for threads: UInt32 in [1, 2, 3] {
            let path = dir + "/t\(threads).xz"
            let writer = try XZFileWriter(path: path, preset: 1, blockSize: 128 << 10, threads: threads)
            for start in stride(from: 0, to: payload.count, by: 70_000) {
                try payload[start..<min(start + 70_000, payload.count)].withUnsafeBytes { try writer.write($0) }
            }
            try writer.finish()
            outputs.append(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0] == outputs[2])
        // Stream header: magic, then the check type in the flags (CRC64 = 0x04).
        #expect(Array(outputs[0].prefix(8)) == [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04])
        // Footer: the same flags, then the "YZ" magic.
        #expect(Array(outputs[0].suffix(4)) == [0x00, 0x04, 0x59, 0x5a])
        let reader = try ArchiveReader(source: try FileByteSource(path: dir + "/t2.xz"), zip: false, blockSize: 4096)
        #expect(try reader.nextMember() != nil)
        var back = [UInt8](repeating: 0, count: payload.count)
        _ = try reader.readData { block, offset in back.replaceSubrange(Int(offset)..<Int(offset) + block.count, with: block) }
        #expect(back == payload)
    }

    @Test func compressionIsChosenBySuffix() {
        #expect(Compression.forPath("o.tar.gz") == .gzip)
        #expect(Compression.forPath("o.tgz") == .gzip)
        #expect(Compression.forPath("pi.img.xz") == .xz)
        #expect(Compression.forPath("pi.img.zst") == .zstd)
        #expect(Compression.forPath("pi.img") == .none)
        #expect(Compression.stripped("pi.img.xz") == "pi.img")
        #expect(Compression.stripped("o.tgz") == "o.tar")
    }

    @Test func atomicOutputLeavesNothingOnFailure() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        struct Boom: Error {}
        let output = AtomicOutput(destination: dir + "/out.bin")
        #expect(throws: Boom.self) {
            try output.commit { temporary in
                #expect(FileManager.default.createFile(atPath: temporary, contents: Data("half".utf8)))
                throw Boom()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(try output.commit { FileManager.default.createFile(atPath: $0, contents: Data("whole".utf8)) })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.bin"])
    }

    @Test func staleTemporariesOfDeadRunsAreRemoved() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(FileManager.default.createFile(atPath: dir + "/.out.img.partial-999999", contents: Data()))
        #expect(FileManager.default.createFile(atPath: dir + "/.out.img.partial-\(getpid())", contents: Data()))
        AtomicOutput(destination: dir + "/out.img").removeStale()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [".out.img.partial-\(getpid())"])
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
