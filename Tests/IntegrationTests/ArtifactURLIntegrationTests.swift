import Foundation
import Testing
import TestSupport
import Artifacts
import Digests
import DiskFormats
import Ext4FS
import ImageBuild

/// `build-image --base URL` and `inspect URL` against a local server that serves the stand-in
/// base as downloads.raspberrypi.com does: `/raspios_lite_arm64_latest` is a 302 to a dated
/// `.img.xz`.
@Suite(.serialized) struct ArtifactURLIntegrationTests {
    static let dated = "2024-11-19-raspios-bookworm-arm64-lite.img.xz"

    /// The stand-in base, xz-compressed, under `dir/srv/images/`; its path.
    static func servedBase(in dir: URL) throws -> String {
        let base = try BuildImageIntegrationTests.makeBase(in: dir)
        let images = try dir.appendingPathComponent("srv/images").creatingDirectory()
        let served = images.appendingPathComponent(dated).path
        try ProcessRunner.check("sh", ["-c", "xz -T1 -c '\(base)' > '\(served)'"])
        return served
    }

    static func modes(cuts: Int) -> LocalHTTPServer.Modes {
        var modes = LocalHTTPServer.Modes(ranges: true)
        modes.redirects = ["/raspios_lite_arm64_latest": "/images/\(dated)"]
        modes.cutAfter = 5_000
        modes.cuts = cuts
        return modes
    }

    static func build(_ base: String, _ output: String, in dir: URL, _ extra: [String] = []) throws -> ProcessRunner.Result {
        try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", base, "--output", output] + extra, in: dir)
    }

    @Test func aRedirectedSuffixlessURLBuildsTheSameBytesAsTheFile() throws {
        let dir = try Project.scratch("base-url")
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = try Self.servedBase(in: dir)
        let server = try LocalHTTPServer(directory: dir.appendingPathComponent("srv"), modes: Self.modes(cuts: 2))
        defer { server.stop() }
        let url = server.url("raspios_lite_arm64_latest")
        let digest = try Project.sha256(served)

        let fromURL = try Self.build(url, "u/pi.img", in: dir)
        #expect(fromURL.status == 0, "\(fromURL.stderr)")
        #expect(fromURL.stdout.contains("\(url): base sha256 \(digest)"), "\(fromURL.stdout)")
        let fromFile = try Self.build(served, "f/pi.img", in: dir)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try Project.sha256(dir.appendingPathComponent("u/pi.img").path) == Project.sha256(dir.appendingPathComponent("f/pi.img").path))
        // The two cut bodies were resumed with Range requests past the start.
        #expect(server.requests().filter { $0.path.hasSuffix(".img.xz") }.count >= 3)

        let json = try Self.build(url, "j/pi.img", in: dir, ["--json", "--base-sha256", digest.uppercased()])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains("\"baseSha256\" : \"\(digest)\""), "\(json.stdout)")

        let inspect = try Project.fpgaLab(["inspect", url])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("sha256 \(digest)"))
        #expect(inspect.stdout.contains("manifest: none"))
    }

    /// build-image from the served base's URL (the first `cuts` bodies cut) to out/`output` with
    /// `extra` fails (exit status 1), leaves `out` empty, and gives `check` its result and the URL.
    static func expectFailedBuild(_ scratch: String, cuts: Int, output: String, _ extra: [String] = [],
                                  sourceLocation: SourceLocation = #_sourceLocation,
                                  _ check: (ProcessRunner.Result, String) -> Void) throws {
        let dir = try Project.scratch(scratch)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try servedBase(in: dir)
        let server = try LocalHTTPServer(directory: dir.appendingPathComponent("srv"), modes: modes(cuts: cuts))
        defer { server.stop() }
        let url = server.url("raspios_lite_arm64_latest")
        let run = try build(url, "out/\(output)", in: dir, extra)
        #expect(run.status == 1, sourceLocation: sourceLocation)
        check(run, url)
        let left = Project.listing(dir.appendingPathComponent("out"))
        #expect(left.isEmpty, "nothing left behind: \(left)", sourceLocation: sourceLocation)
    }

    @Test func aWrongPinFailsAndLeavesTheOutputDirectoryEmpty() throws {
        let pin = String(repeating: "0", count: 64)
        try Self.expectFailedBuild("base-url-pin", cuts: 0, output: "pi.img.xz", ["--base-sha256", pin]) { run, url in
            #expect(run.stderr.hasPrefix("fpga-lab: error: \(url): the download's sha256 is "), "\(run.stderr)")
            #expect(run.stderr.contains("not the \(pin) it was pinned to"))
        }
    }

    @Test func aDownloadCutTooOftenFailsClearly() throws {
        try Self.expectFailedBuild("base-url-cut", cuts: 100, output: "pi.img") { run, _ in
            #expect(run.stderr.contains("download failed: cut or stalled 4 times, resumed from where it stopped each time; gave up after 20000 of"), "\(run.stderr)")
        }
    }
}

/// The resuming download itself: a body cut twice is resumed and gives the file's bytes.
@Suite struct DownloadResumeTests {
    @Test func aCutRedirectedBodyIsResumedWithTheSameBytes() throws {
        let dir = try Project.scratch("download-resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        try Data(bytes).write(to: dir.appendingPathComponent("file.bin"))
        var modes = LocalHTTPServer.Modes(ranges: true)
        modes.cutAfter = 300_000
        modes.cuts = 2
        modes.redirects = ["/latest": "/file.bin"]
        let server = try LocalHTTPServer(directory: dir, modes: modes)
        defer { server.stop() }
        let download = try Download(url: try #require(URL(string: server.url("latest"))))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try download.read(into: $0) }
            if count == 0 { break }
            received += buffer[..<count]
        }
        #expect(received.count == bytes.count)
        #expect(received == bytes)
        #expect(download.resumed == 2)
        #expect(try download.finish() == Hex.encode(SHA256.hash(data: bytes)))
    }
}

/// `ImageSource.extract(location:)` of a redirected URL, cut or not: the file's bytes.
@Suite struct DownloadExtractTests {
    @Test(arguments: [0, 2]) func extractFromURLMatchesTheFile(cuts: Int) throws {
        let dir = try Project.scratch("download-extract")
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = try ArtifactURLIntegrationTests.servedBase(in: dir)
        let server = try LocalHTTPServer(directory: dir.appendingPathComponent("srv"), modes: ArtifactURLIntegrationTests.modes(cuts: cuts))
        defer { server.stop() }
        let a = dir.appendingPathComponent("a.img").path, b = dir.appendingPathComponent("b.img").path
        try ImageSource.extract(base: served, to: a)
        let extraction = try ImageSource.extract(location: Location(server.url("raspios_lite_arm64_latest")), sha256: nil, to: b)
        #expect(extraction.sha256 == (try Project.sha256(served)))
        #expect(server.requests().filter { $0.path.hasSuffix(".img.xz") }.count == 1 + cuts)
        #expect(try Project.sha256(a) == Project.sha256(b))
    }
}
