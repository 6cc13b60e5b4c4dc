import DiskFormats
import Ext4FS
import ImageBuild
import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct BmapIntegrationTests {
    /// The MBR sector plus everything the ext4 bitmaps mark, relative to the image.
    static func imageRanges(_ image: String) throws -> [(offset: UInt64, length: UInt64)] {
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: false)
        defer { try? volume.close() }
        return [(offset: 0, length: 512)] + (try volume.allocatedRanges())
    }

    static func patchedImage(in dir: URL, mkfsOptions: [String]) throws -> String {
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: mkfsOptions)
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        try applyPatch(volume)
        try volume.close()
        return image
    }

    @Test(arguments: [[], ["-b", "4096", "-O", "^64bit,^huge_file"]])
    func bmaptoolCopiesAndVerifiesOurBmap(mkfsOptions: [String]) throws {
        let dir = try Project.scratch("bmap")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Self.patchedImage(in: dir, mkfsOptions: mkfsOptions)
        let bmap = try Bmap.make(imagePath: image, ranges: try Self.imageRanges(image))
        let bmapPath = dir.appendingPathComponent("disk.bmap").path
        try Data(bmap.xml()).write(to: URL(fileURLWithPath: bmapPath))
        #expect(try Bmap.parse(bmap.xml()) == bmap)

        let target = dir.appendingPathComponent("target.img").path
        try ProcessRunner.check("bmaptool", ["copy", "--bmap", bmapPath, image, target])

        let source = try Data(contentsOf: URL(fileURLWithPath: image))
        let copied = try Data(contentsOf: URL(fileURLWithPath: target))
        #expect(copied.count == source.count)
        for range in bmap.ranges {
            let start = Int(range.first * bmap.blockSize)
            let end = min(Int((range.last + 1) * bmap.blockSize), source.count)
            #expect(copied[start..<end] == source[start..<end], "blocks \(range.first)-\(range.last)")
        }
        #expect(bmap.mappedBlocksCount < bmap.blocksCount / 2)

        let fs = dir.appendingPathComponent("copied.ext4").path
        try Ext4Tools.extractPartition(target, to: fs)
        let fsck = try ProcessRunner.run("e2fsck", ["-fn", fs])
        #expect(fsck.status == 0, "e2fsck -fn on the bmaptool copy: \(fsck.stdout)\(fsck.stderr)")
    }

    @Test(arguments: [[], ["-b", "4096", "-O", "orphan_file"], ["-b", "4096", "-O", "metadata_csum_seed"]])
    func allocatedRangesCoverEveryNonZeroBlock(mkfsOptions: [String]) throws {
        let dir = try Project.scratch("bmap-cover")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Self.patchedImage(in: dir, mkfsOptions: mkfsOptions)
        let bmap = try Bmap.make(imagePath: image, ranges: try Self.imageRanges(image))
        var mapped = Set<UInt64>()
        for range in bmap.ranges { for block in range.first...range.last { mapped.insert(block) } }

        let bytes = try Data(contentsOf: URL(fileURLWithPath: image))
        let zeros = [UInt8](repeating: 0, count: 4096)
        var uncovered: [Int] = []
        bytes.withUnsafeBytes { raw in
            for block in 0..<(raw.count + 4095) / 4096 where !mapped.contains(UInt64(block)) {
                let length = min(4096, raw.count - block * 4096)
                if memcmp(raw.baseAddress! + block * 4096, zeros, length) != 0 { uncovered.append(block) }
            }
        }
        #expect(uncovered.isEmpty, "non-zero 4 KiB blocks outside the map: \(uncovered.prefix(20))")
    }

    @Test func parsesWhatBmaptoolCreates() throws {
        let dir = try Project.scratch("bmap-create")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"])
        let bmapPath = dir.appendingPathComponent("made.bmap").path
        try ProcessRunner.check("bmaptool", ["create", "-o", bmapPath, image])
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: bmapPath)))
        let parsed = try Bmap.parse(original)
        #expect(parsed.version == "2.0")
        #expect(parsed.checksumType == .sha256)
        #expect(parsed.imageSize == UInt64(try FileManager.default.attributesOfItem(atPath: image)[.size] as! Int))
        #expect(!parsed.ranges.isEmpty)
        #expect(parsed.xml() == original)

        let recomputed = try Bmap.make(imagePath: image, ranges: parsed.ranges.map {
            (offset: $0.first * 4096, length: $0.count * 4096)
        })
        #expect(recomputed.ranges == parsed.ranges)
    }
}
