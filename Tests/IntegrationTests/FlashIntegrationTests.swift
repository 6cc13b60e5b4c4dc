import Progress
import Artifacts
import Flash
import Foundation
import Testing
import TestSupport

/// `fpga-lab flash` against bmaptool (the oracle), over a local HTTP server, from zips.
@Suite(.serialized) struct FlashIntegrationTests {
    @Test func xzToAFileMatchesTheImageAndBmaptoolCopy() throws {
        try FlashFixture.withImage() { dir, image in
            let target = dir.appendingPathComponent("target.img").path
            let oracle = dir.appendingPathComponent("oracle.img").path

            let flasher = Flasher(options: .init(source: image + ".xz", target: target), progress: ProgressBar(enabled: false))
            let plan = try flasher.plan()
            let report = try flasher.run(plan)
            try ProcessRunner.check("bmaptool", ["copy", image + ".xz", oracle])

            let ranges = try FlashFixture.mappedRanges(image + ".bmap")
            let mapped = UInt64(ranges.reduce(0) { $0 + $1.count })
            #expect(plan.source.bmapName == image + ".xz.bmap")
            #expect(plan.source.bmapVouchesForImage)
            #expect(report.checkedAgainstSums)
            #expect(report.checkedThroughBmap)
            #expect(report.bytesWritten == mapped)
            #expect(report.mappedBytes == mapped)
            #expect(report.verifiedBytes == mapped)
            #expect(report.imageSize == 64 << 20)
            #expect(mapped < report.imageSize / 4)
            #expect(try FlashFixture.sameBytes(target, image, on: ranges))
            #expect(try FlashFixture.sameBytes(target, oracle, on: ranges))
            let size = try FileManager.default.attributesOfItem(atPath: target)[.size] as? UInt64
            #expect(size == report.imageSize)
        }
    }

    /// A used card: the target holds 0xA5 everywhere, so a zero block of the image that flash
    /// leaves out shows up as old bytes (it did: only non-zero blocks were written).
    @Test func rawImageWithoutBmapWritesEveryBlockOverOldData() throws {
        try FlashFixture.withImage() { dir, image in
            let bare = try dir.appendingPathComponent("bare").creatingDirectory()
            try FileManager.default.copyItem(atPath: image, toPath: bare.appendingPathComponent("pi.img").path)
            let imageBytes = try Data(contentsOf: URL(fileURLWithPath: image))
            let target = dir.appendingPathComponent("target.img").path
            try Data(repeating: 0xA5, count: imageBytes.count).write(to: URL(fileURLWithPath: target))
            let flasher = Flasher(options: .init(source: bare.appendingPathComponent("pi.img").path, target: target), progress: ProgressBar(enabled: false))
            let plan = try flasher.plan()
            #expect(plan.source.bmap == nil)
            #expect(plan.source.notes.contains { $0.contains("every block of the image is written, zero or not") })
            let report = try flasher.run(plan)
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == imageBytes)
            #expect(report.bytesWritten == UInt64(imageBytes.count))
            #expect(report.verifiedBytes == UInt64(imageBytes.count))
            #expect(!report.usedBmap)
        }
    }

    @Test(arguments: [false, true]) func streamsAnHTTPURL(ranges: Bool) throws {
        try Self.flashOverHTTP(.init(ranges: ranges)) { run, server, dir in
            #expect(run.stderr.contains("pi.img.xz.bmap: matches SHA256SUMS"), "\(run.stderr)")
            let dry = try Project.fpgaLab(["flash", "--dry-run", server.url("pi.img.xz"), dir.appendingPathComponent("none.img").path])
            #expect(dry.status == 0)
            #expect(dry.stdout.hasPrefix("dry run: would write "), "\(dry.stdout)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("none.img").path))
        }
    }

    /// A valid xz of an image that differs in one mapped byte: the bmap's range checksum and
    /// SHA256SUMS both catch it; the CLI exits 1 with the reason.
    /// SHA256SUMS reaches every written byte through the bmap it lists: a byte flipped where the
    /// bmap maps nothing is neither written nor checked (as with bmaptool). With a bmap that
    /// SHA256SUMS does not list (`--bmap`), the whole file is hashed and the flip is caught.
    @Test func theListedBmapChecksWhatIsWritten() throws {
        try FlashFixture.withImage() { dir, image in
            let served = try dir.appendingPathComponent("served").creatingDirectory()
            let ranges = try FlashFixture.mappedRanges(image + ".bmap")
            let gap = ranges[0].upperBound + 4096
            try #require(ranges.count > 1 && gap < ranges[1].lowerBound)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: image))
            bytes[gap] ^= 0x40
            try bytes.write(to: served.appendingPathComponent("pi.img"))
            try FileManager.default.copyItem(atPath: image + ".bmap", toPath: served.appendingPathComponent("pi.img.bmap").path)
            try FileManager.default.copyItem(at: dir.appendingPathComponent("SHA256SUMS"), to: served.appendingPathComponent("SHA256SUMS"))

            let target = dir.appendingPathComponent("t.img").path
            let run = try Project.fpgaLab(["flash", served.appendingPathComponent("pi.img").path, target])
            #expect(run.status == 0, "\(run.stderr)")
            #expect((run.stdout + run.stderr).contains("SHA256SUMS ok (through the bmap it lists)"), "\(run.stdout)")
            #expect(try FlashFixture.sameBytes(target, image, on: ranges))

            let other = dir.appendingPathComponent("other.bmap").path
            try FileManager.default.copyItem(atPath: image + ".bmap", toPath: other)
            let unlisted = try Project.fpgaLab(["flash", "--bmap", other, served.appendingPathComponent("pi.img").path,
                                                     dir.appendingPathComponent("u.img").path])
            #expect(unlisted.status == 1)
            #expect(unlisted.stderr.contains("fpga-lab: error: pi.img: sha256 "), "\(unlisted.stderr)")
            #expect(unlisted.stderr.contains("but SHA256SUMS says"), "\(unlisted.stderr)")
        }
    }

    @Test func aCorruptedArtifactFailsClearly() throws {
        try FlashFixture.withImage() { dir, image in
            let served = try dir.appendingPathComponent("served").creatingDirectory()
            var bytes = try Data(contentsOf: URL(fileURLWithPath: image))
            let range = try FlashFixture.mappedRanges(image + ".bmap")[1]
            let offset = range.lowerBound + 100
            bytes[offset] ^= 0x40
            try bytes.write(to: served.appendingPathComponent("pi.img"))
            try ProcessRunner.check("xz", ["-T1", "-1", served.appendingPathComponent("pi.img").path])
            try FileManager.default.copyItem(atPath: image + ".xz.bmap", toPath: served.appendingPathComponent("pi.img.xz.bmap").path)
            try FileManager.default.copyItem(at: dir.appendingPathComponent("SHA256SUMS"), to: served.appendingPathComponent("SHA256SUMS"))
            let server = try LocalHTTPServer(directory: served, ranges: true)
            defer { server.stop() }

            let run = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("t.img").path])
            #expect(run.status == 1)
            #expect(run.stderr.contains("fpga-lab: error: blocks \(range.lowerBound / 4096)-\((range.upperBound - 1) / 4096): sha256 "), "\(run.stderr)")
            #expect(run.stderr.contains("the bmap says"), "\(run.stderr)")

            // Without the bmap, SHA256SUMS still catches it once the stream ends.
            try FileManager.default.removeItem(at: served.appendingPathComponent("pi.img.xz.bmap"))
            let bare = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("u.img").path])
            #expect(bare.status == 1)
            #expect(bare.stderr.contains("fpga-lab: error: pi.img.xz: sha256 "), "\(bare.stderr)")
            #expect(bare.stderr.contains("but SHA256SUMS says"), "\(bare.stderr)")

            // Bytes damaged in transit break the xz stream itself.
            var xz = try Data(contentsOf: URL(fileURLWithPath: image + ".xz"))
            xz[xz.count / 2] ^= 0xff
            try xz.write(to: served.appendingPathComponent("pi.img.xz"))
            let damaged = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("v.img").path])
            #expect(damaged.status == 1)
            #expect(damaged.stderr.contains("fpga-lab: error: "), "\(damaged.stderr)")
        }
    }

    @Test func aCorruptedBmapFailsClearly() throws {
        try FlashFixture.withImage() { dir, image in
            let bmapPath = image + ".xz.bmap"
            var xml = try String(contentsOfFile: bmapPath, encoding: .utf8)
            let checksum = xml.between("chksum=\"", "\"")!
            let flipped = String(checksum.dropLast()) + (checksum.hasSuffix("0") ? "1" : "0")
            xml = xml.replacingOccurrences(of: checksum, with: flipped)
            try xml.write(toFile: bmapPath, atomically: true, encoding: .utf8)
            let server = try LocalHTTPServer(directory: dir)
            defer { server.stop() }

            let listed = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("t.img").path])
            #expect(listed.status == 1)
            #expect(listed.stderr.contains("fpga-lab: error: pi.img.xz.bmap: sha256 "), "\(listed.stderr)")

            try FileManager.default.removeItem(at: dir.appendingPathComponent("SHA256SUMS"))
            let unlisted = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("t.img").path])
            #expect(unlisted.status == 1)
            #expect(unlisted.stderr.contains("pi.img.xz.bmap: bmap: file checksum mismatch"), "\(unlisted.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("t.img").path))
        }
    }

    /// GitHub's upload-artifact zip: image first, then bmap and SHA256SUMS; path and URL.
    @Test func flashesACIArtifactZip() throws {
        try FlashFixture.withImage() { dir, image in
            let zip = dir.appendingPathComponent("artifact.zip").path
            try ProcessRunner.check("sh", ["-c", "cd '\(dir.path)' && grep -v ' pi.img$\\| pi.img.bmap$' SHA256SUMS > sums && mkdir a && mv sums a/SHA256SUMS && cp pi.img.xz pi.img.xz.bmap a/ && cd a && zip -q -0 '\(zip)' pi.img.xz pi.img.xz.bmap SHA256SUMS"])
            let ranges = try FlashFixture.mappedRanges(image + ".bmap")
            let mapped = UInt64(ranges.reduce(0) { $0 + $1.count })

            let local = dir.appendingPathComponent("local.img").path
            let flasher = Flasher(options: .init(source: zip, target: local), progress: ProgressBar(enabled: false))
            let plan = try flasher.plan()
            #expect(plan.source.imageName == "pi.img.xz")
            #expect(plan.source.bmapName == "\(zip):pi.img.xz.bmap")
            let report = try flasher.run(plan)
            #expect(report.checkedAgainstSums)
            #expect(report.bytesWritten == mapped)
            #expect(try FlashFixture.sameBytes(local, image, on: ranges))

            let server = try LocalHTTPServer(directory: dir)
            defer { server.stop() }
            let remote = dir.appendingPathComponent("remote.img").path
            let run = try Project.fpgaLab(["flash", server.url("artifact.zip"), remote])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try FlashFixture.sameBytes(remote, image, on: ranges))
        }
    }
}

/// While the server honours Range, a slow reader never has more than two 8 MiB chunks
/// buffered; a server that ignores Range still streams the whole file correctly.
@Suite struct FlashHTTPBackPressureTests {
    /// Reads `source` to its end, 1 MiB at a time, noting the most it ever had buffered. A slow
    /// reader stops after every 16 MiB until the download got at least a chunk (8 MiB) ahead
    /// of it, or to the end: the producer runs ahead as far as back-pressure lets it.
    static func readAll(_ source: HTTPByteSource, slowly: Bool) throws -> (total: Int, peak: Int) {
        var peak = 0
        let total = try source.forEachChunk(bufferSize: 1 << 20) { chunk, offset in
            let read = Int(offset) + chunk.count
            if slowly, read / (16 << 20) != Int(offset) / (16 << 20) {
                let remaining = Int(source.expectedLength ?? 0) - read
                try Wait.until("the download got ahead of the reader at \(read)") { source.bufferedBytes >= min(8 << 20, remaining) }
            }
            peak = max(peak, source.bufferedBytes)
        }
        return (Int(total), peak)
    }

    @Test func aSlowReaderKeepsTheBufferBounded() throws {
        let dir = try Project.scratch("flash-http")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ProcessRunner.check("truncate", ["-s", "256M", dir.appendingPathComponent("big.img").path])
        let server = try LocalHTTPServer(directory: dir, ranges: true)
        defer { server.stop() }
        let source = try HTTPByteSource(url: URL(string: server.url("big.img"))!)
        #expect(source.ranged)
        #expect(source.expectedLength == 256 << 20)
        let (total, peak) = try Self.readAll(source, slowly: true)
        #expect(total == 256 << 20)
        #expect(peak <= 16 << 20, "peak buffered \(peak)")
    }

    @Test func aServerIgnoringRangeStillStreamsTheWholeFile() throws {
        let dir = try Project.scratch("flash-http-plain")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        try Data(bytes).write(to: dir.appendingPathComponent("f.bin"))
        let server = try LocalHTTPServer(directory: dir)
        defer { server.stop() }
        let source = try HTTPByteSource(url: URL(string: server.url("f.bin"))!, chunkSize: 1 << 20)
        #expect(!source.ranged)
        #expect(try HTTPByteSource.fetch(URL(string: server.url("f.bin"))!) == bytes)
        #expect(try HTTPByteSource.fetch(URL(string: server.url("missing"))!) == nil)
        #expect(try Self.readAll(source, slowly: false).total == bytes.count)
    }

    @Test func rangedChunksReassembleExactly() throws {
        let dir = try Project.scratch("flash-http-ranged")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = (0..<3_000_001).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 9) }
        try Data(bytes).write(to: dir.appendingPathComponent("f.bin"))
        try Data().write(to: dir.appendingPathComponent("empty"))
        let server = try LocalHTTPServer(directory: dir, ranges: true)
        defer { server.stop() }
        let source = try HTTPByteSource(url: URL(string: server.url("f.bin"))!, chunkSize: 1 << 20)
        #expect(source.ranged)
        var out: [UInt8] = []
        try source.forEachChunk(bufferSize: 77_777) { chunk, _ in out += chunk }
        #expect(out == bytes)
        let empty = try HTTPByteSource.fetch(URL(string: server.url("empty"))!)
        #expect(empty == [], "\(String(describing: empty))")
    }
}
