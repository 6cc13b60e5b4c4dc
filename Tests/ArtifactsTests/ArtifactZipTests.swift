import Archives
import Artifacts
import Foundation
import Testing
import TestSupport

/// The one zip member policy, on zips made by Info-ZIP's `zip`.
@Suite struct ArtifactZipTests {
    /// A zip of `files` (name -> bytes) made by `zip -q -0` in a fresh directory; its path.
    static func makeZip(_ files: [String: [UInt8]]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("artifact-zip-\(UUID().uuidString)")
        for (name, bytes) in files {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        let zip = dir.appendingPathComponent("artifact.zip").path
        try ProcessRunner.check("zip", ["-q", "-r", zip] + files.keys.sorted(), in: dir)
        return zip
    }

    static func readAll(_ source: ByteSource) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try source.forEachChunk(bufferSize: 1 << 16) { chunk, _ in bytes += chunk }
        return bytes
    }

    @Test func theWorkflowsArtifactIsOneImageWithItsCompanions() throws {
        let image: [UInt8] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] + Array(repeating: 7, count: 100_000)
        let zip = try Self.makeZip(["pi.img.xz": image, "pi.img.xz.bmap": Array("<bmap/>".utf8),
                                    "SHA256SUMS": Array("sums".utf8), "README": Array("hello".utf8)])
        let artifact = try ArtifactZip(path: zip)
        #expect(artifact.image == "pi.img.xz")
        #expect(artifact.imageSize == UInt64(image.count))
        #expect(artifact.sha256Sums == Array("sums".utf8))
        #expect(artifact.bmapNames == ["pi.img.xz.bmap"])
        let source = try artifact.openImage()
        #expect(try Self.readAll(source) == image)
        #expect(Container(header: Array(image.prefix(8))) == .xz)
    }

    @Test func imageNamesAreTheImageAndItsCompressions() {
        for name in ["pi.img", "PI.IMG", "pi.img.xz", "pi.img.gz", "pi.img.zst", "pi.img.bz2", "dir/pi.img"] {
            #expect(ArtifactZip.isImageName(name), "\(name)")
        }
        for name in ["pi.img.bmap", "SHA256SUMS", "pi.iso", "pi.img.zip", "img"] {
            #expect(!ArtifactZip.isImageName(name), "\(name)")
        }
        #expect(ArtifactZip.bmapNames(for: "pi.img.xz") == ["pi.img.xz.bmap", "pi.img.bmap"])
        #expect(ArtifactZip.bmapNames(for: "pi.img") == ["pi.img.bmap"])
    }

    @Test func noImageOrSeveralAreRefusedNamingTheZipOnce() throws {
        let none = try Self.makeZip(["notes.txt": [1]])
        #expect(throws: ArtifactError.noImage(none)) { try ArtifactZip(path: none) }
        #expect("\(ArtifactError.noImage(none))".components(separatedBy: none).count == 2)
        let two = try Self.makeZip(["a.img": [1], "b.img.xz": [2]])
        #expect(throws: ArtifactError.severalImages(two, ["a.img", "b.img.xz"])) { try ArtifactZip(path: two) }
    }

    @Test func aFileThatIsNoZipIsUnreadableNamedOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-\(UUID().uuidString).zip").path
        try Data("PK\u{3}\u{4}garbage".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ArtifactZip(path: path)
            Issue.record("a broken zip was read")
        } catch let error as ArtifactError {
            #expect("\(error)".hasPrefix(path + ": "))
            #expect("\(error)".components(separatedBy: path).count == 2, "\(error)")
        }
    }
}
