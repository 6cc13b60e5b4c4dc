import Digests
import Foundation
import Testing

@testable import DiskFormats
import SystemIO

/// A bmap made by `bmaptool create` (bmap-tools 3.6) for a 40000-byte sparse image
/// holding "block N data" at blocks 0, 2, 3, 4 and 9.
private let bmaptoolFixture: [UInt8] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bmaptool-small.bmap")
    return Array(try! Data(contentsOf: url))
}()

/// The image bmaptool saw, rebuilt in memory.
private func smallImage() -> [UInt8] {
    var image = [UInt8](repeating: 0, count: 40000)
    for block in [0, 2, 3, 4, 9] {
        let text = Array("block \(block) data".utf8)
        image.replaceSubrange(block * 4096..<block * 4096 + text.count, with: text)
    }
    return image
}

private let fixtureRanges = [
    Bmap.Range(first: 0, last: 0, checksum: "17e44b21fded9cee5d16b94741e7d3d7e026e75e5524327509c0cd9d184e507d"),
    Bmap.Range(first: 2, last: 4, checksum: "75ab9df1e23aff442e74327a21e88fbf638c1af036773c972526efed39287276"),
    Bmap.Range(first: 9, last: 9, checksum: "e1cb6652be8762932c46f09fe744d19503b777ba392337e4c523767f9a9c6596"),
]

@Suite struct BmapTests {
    @Test func writerMatchesBmaptoolByteForByte() {
        let bmap = Bmap(imageSize: 40000, ranges: fixtureRanges)
        #expect(bmap.xml() == bmaptoolFixture)
        #expect(bmap.fileChecksum == "694df661192b80eca9b3ad215e7a0f3b78106da4cf13798e9ca4ab0600c3491d")
        #expect(bmap.blocksCount == 10)
        #expect(bmap.mappedBlocksCount == 5)
    }

    @Test func parsesBmaptoolOutput() throws {
        let bmap = try Bmap.parse(bmaptoolFixture)
        #expect(bmap == Bmap(imageSize: 40000, blockSize: 4096, checksumType: .sha256, ranges: fixtureRanges))
    }

    @Test func parserRejectsATamperedFile() throws {
        var bytes = bmaptoolFixture
        let at = bytes.firstRange(of: Array("> 2-4 <".utf8))!
        bytes.replaceSubrange(at, with: Array("> 2-5 <".utf8))
        #expect(throws: BmapError.fileChecksumMismatch(
            expected: "694df661192b80eca9b3ad215e7a0f3b78106da4cf13798e9ca4ab0600c3491d",
            actual: Hex.encode(SHA256.hash(data: Self.zeroed(bytes))))) {
            try Bmap.parse(bytes)
        }
    }

    static func zeroed(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        let at = copy.firstRange(of: Array("694df661192b80eca9b3ad215e7a0f3b78106da4cf13798e9ca4ab0600c3491d".utf8))!
        copy.replaceSubrange(at, with: [UInt8](repeating: UInt8(ascii: "0"), count: 64))
        return copy
    }

    @Test func makeHashesWholeBlocksAndMergesRanges() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bmap-make-\(getpid()).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(smallImage()).write(to: URL(fileURLWithPath: path))
        let bmap = try Bmap.make(imagePath: path, ranges: [
            (offset: 39000, length: 5000),       // block 9, clipped at the image end
            (offset: 8192, length: 100),         // block 2
            (offset: 12288, length: 8192),       // blocks 3-4, touching block 2
            (offset: 10, length: 1),             // block 0
        ])
        #expect(bmap == Bmap(imageSize: 40000, ranges: fixtureRanges))
    }

    @Test func blockRunsWidenAndJoin() {
        let runs = Bmap.blockRuns([(offset: 4095, length: 2), (offset: 0, length: 0), (offset: 12288, length: 1)],
                                  blockSize: 4096, imageSize: 1 << 20)
        #expect(runs.map { [$0.first, $0.last] } == [[0, 1], [3, 3]])
    }

    @Test func humanSizesLikeBmaptool() {
        #expect(Bmap.humanSize(1) == "1 byte")
        #expect(Bmap.humanSize(511) == "511 bytes")
        #expect(Bmap.humanSize(512) == "0.5 KiB")
        #expect(Bmap.humanSize(40000) == "39.1 KiB")
        #expect(Bmap.humanSize(3 << 30) == "3.0 GiB")
    }

    @Test func parsesVersion1Point3WithSHA1() throws {
        let template = """
            <?xml version="1.0" ?>
            <bmap version="1.3">
                <ImageSize> 8192 </ImageSize>
                <BlockSize> 4096 </BlockSize>
                <BlocksCount> 2 </BlocksCount>
                <MappedBlocksCount> 1 </MappedBlocksCount>
                <BmapFileSHA1> \(String(repeating: "0", count: 40)) </BmapFileSHA1>
                <BlockMap>
                    <Range sha1="3f786850e387550fdab836ed7e6dc881de23001b"> 1 </Range>
                </BlockMap>
            </bmap>

            """
        let digest = Hex.encode(Insecure.SHA1.hash(data: Array(template.utf8)))
        let text = template.replacingOccurrences(of: String(repeating: "0", count: 40), with: digest)
        let bmap = try Bmap.parse(Array(text.utf8))
        #expect(bmap.version == "1.3")
        #expect(bmap.checksumType == .sha1)
        #expect(bmap.ranges == [Bmap.Range(first: 1, last: 1, checksum: "3f786850e387550fdab836ed7e6dc881de23001b")])
    }

    @Test func parsesVersion1Point2WithoutChecksums() throws {
        let text = """
            <bmap version="1.2"><ImageSize>4096</ImageSize><BlockSize>4096</BlockSize>
            <BlocksCount>1</BlocksCount><MappedBlocksCount>1</MappedBlocksCount>
            <BlockMap><Range>0-0</Range><!-- c --></BlockMap></bmap>
            """
        let bmap = try Bmap.parse(Array(text.utf8))
        #expect(bmap.checksumType == nil)
        #expect(bmap.ranges == [Bmap.Range(first: 0, last: 0, checksum: nil)])
    }

    @Test func parserErrors() {
        #expect(throws: BmapError.unsupportedVersion("3.0")) {
            try Bmap.parse(Array("<bmap version=\"3.0\"></bmap>".utf8))
        }
        #expect(throws: BmapError.malformed("<ImageSize> is not closed")) {
            try Bmap.parse(Array("<bmap version=\"2.0\"><ImageSize>1".utf8))
        }
        #expect(throws: BmapError.malformed("image size 9000 does not match 1 blocks of 4096 bytes")) {
            try Bmap.parse(Array("<bmap version=\"1.0\"><ImageSize>9000</ImageSize><BlockSize>4096</BlockSize><BlocksCount>1</BlocksCount></bmap>".utf8))
        }
    }
}
