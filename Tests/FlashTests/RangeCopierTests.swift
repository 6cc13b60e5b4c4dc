import Digests
import DiskFormats
import Foundation
import Testing
@testable import Flash

@Suite struct RangeCopierTests {
    /// A 10-block image (block 4096, last block 100 bytes) with data in blocks 1-2, 5 and 9.
    static let imageSize = 9 * 4096 + 100
    static let image: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: imageSize)
        for i in 4096..<3 * 4096 { bytes[i] = UInt8(truncatingIfNeeded: i * 31 + 1) }
        for i in 5 * 4096..<6 * 4096 where i % 3 == 0 { bytes[i] = 0xA5 }
        for i in 9 * 4096..<imageSize { bytes[i] = 0x5A }
        return bytes
    }()

    static func digest(_ first: Int, _ last: Int) -> String {
        Hex.encode(SHA256.hash(data: image[first * 4096..<min((last + 1) * 4096, imageSize)]))
    }

    static let bmap = Bmap(imageSize: UInt64(imageSize), ranges: [
        .init(first: 1, last: 2, checksum: digest(1, 2)),
        .init(first: 5, last: 5, checksum: digest(5, 5)),
        .init(first: 9, last: 9, checksum: digest(9, 9)),
    ])

    /// Copies `image` in chunks of `chunk` bytes onto a target pre-filled with 0xEE and
    /// returns the target's bytes and the copier.
    static func copy(bmap: Bmap?, chunk: Int, image: [UInt8] = image) throws -> ([UInt8], RangeCopier) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flash-copier-\(UUID().uuidString)").path
        defer { unlink(path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0xEE, count: imageSize)))
        let fd = open(path, O_RDWR)
        defer { close(fd) }
        let copier = RangeCopier(writer: AlignedWriter(fd: fd, path: path, capacity: 8192), bmap: bmap)
        for start in stride(from: 0, to: image.count, by: chunk) {
            try image[start..<min(start + chunk, image.count)].withUnsafeBytes { try copier.consume($0, at: UInt64(start)) }
        }
        try copier.finish()
        return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), copier)
    }

    @Test(arguments: [1, 7, 4096, 5000, 1 << 20])
    func writesExactlyTheMappedRanges(chunk: Int) throws {
        let (target, copier) = try Self.copy(bmap: Self.bmap, chunk: chunk)
        for block in 0..<10 {
            let range = block * 4096..<min((block + 1) * 4096, Self.imageSize)
            let mapped = [1, 2, 5, 9].contains(block)
            #expect(Array(target[range]) == (mapped ? Array(Self.image[range]) : [UInt8](repeating: 0xEE, count: range.count)), "block \(block)")
        }
        #expect(copier.bytesWritten == 3 * 4096 + 100)
        #expect(copier.ranges == [
            WrittenRange(first: 1, last: 2, sha256: Self.digest(1, 2)),
            WrittenRange(first: 5, last: 5, sha256: Self.digest(5, 5)),
            WrittenRange(first: 9, last: 9, sha256: Self.digest(9, 9)),
        ])
    }

    @Test func aCorruptedByteFailsItsRange() throws {
        var corrupted = Self.image
        corrupted[5 * 4096 + 3] ^= 1
        #expect(throws: FlashError.rangeChecksum(first: 5, last: 5, expected: Self.digest(5, 5),
                                                 actual: Hex.encode(SHA256.hash(data: corrupted[5 * 4096..<6 * 4096])))) {
            try Self.copy(bmap: Self.bmap, chunk: 1000, image: corrupted)
        }
    }

    @Test func aShortImageIsTruncated() throws {
        #expect(throws: FlashError.truncated("image", got: 8 * 4096, needed: UInt64(Self.imageSize))) {
            try Self.copy(bmap: Self.bmap, chunk: 4096, image: Array(Self.image[..<(8 * 4096)]))
        }
    }

    /// Without a bmap every block is written, zeros included: the target's 0xEE (a used card's
    /// old bytes) must not survive under the image's zero blocks 0, 3-4 and 6-8.
    @Test(arguments: [3, 4096, 10_000])
    func withoutBmapWritesEveryBlock(chunk: Int) throws {
        let (target, copier) = try Self.copy(bmap: nil, chunk: chunk)
        #expect(target == Self.image)
        #expect(copier.ranges == [WrittenRange(first: 0, last: 9, sha256: Self.digest(0, 9))])
        #expect(copier.bytesWritten == UInt64(Self.imageSize))
    }

    /// Without a bmap the written runs are cut every 64 MiB, so the read-back checks them piece by piece.
    @Test func withoutBmapRunsAre64MiB() throws {
        let blocks = Int(RangeCopier.runBlocks) + 2
        let zeros = [UInt8](repeating: 0, count: blocks * 4096)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flash-runs-\(UUID().uuidString)").path
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let copier = RangeCopier(writer: AlignedWriter(fd: fd, path: path), bmap: nil)
        try zeros.withUnsafeBytes { try copier.consume($0, at: 0) }
        try copier.finish()
        #expect(copier.ranges.map { [$0.first, $0.last] } == [[0, RangeCopier.runBlocks - 1], [RangeCopier.runBlocks, RangeCopier.runBlocks + 1]])
        #expect(copier.bytesWritten == UInt64(zeros.count))
    }

    @Test func gapsInTheStreamAreZeros() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flash-gap-\(UUID().uuidString)").path
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        defer { close(fd) }
        let zeroBlock = Hex.encode(SHA256.hash(data: [UInt8](repeating: 0, count: 4096)))
        let bmap = Bmap(imageSize: 2 * 4096, ranges: [.init(first: 0, last: 1, checksum: nil)])
        let copier = RangeCopier(writer: AlignedWriter(fd: fd, path: path), bmap: bmap)
        let ones = [UInt8](repeating: 1, count: 4096)
        try ones.withUnsafeBytes { try copier.consume($0, at: 4096) }
        try copier.finish()
        #expect(copier.position == 8192)
        #expect(copier.ranges.count == 1)
        #expect(copier.ranges[0].sha256 == Hex.encode(SHA256.hash(data: [UInt8](repeating: 0, count: 4096) + ones)))
        #expect(zeroBlock != copier.ranges[0].sha256)
    }
}
