import Flash
import Foundation
import Testing
import TestSupport

/// `fpga-lab flash URL` against servers that encode replies or stall (issue 18, items 14, 15).
extension FlashIntegrationTests {
    /// Serves the scratch image with `modes`, flashes `pi.img.xz` from the server to a target,
    /// expects a run that succeeded, passed SHA256SUMS and wrote the image's mapped bytes, and
    /// hands the run, the server (still serving) and the scratch directory to `more`.
    static func flashOverHTTP(_ modes: LocalHTTPServer.Modes,
                              _ more: (ProcessRunner.Result, LocalHTTPServer, URL) throws -> Void) throws {
        try FlashFixture.withImage() { dir, image in
            let server = try LocalHTTPServer(directory: dir, modes: modes)
            defer { server.stop() }
            let target = dir.appendingPathComponent("target.img").path
            let run = try Project.fpgaLab(["flash", server.url("pi.img.xz"), target])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("SHA256SUMS ok"), "\(run.stdout)")
            #expect(try FlashFixture.sameBytes(target, image, on: try FlashFixture.mappedRanges(image + ".bmap")))
            try more(run, server, dir)
        }
    }

    /// A server that gzip-encodes whatever the client allows: image downloads ask for
    /// `identity`, so the bytes counted are the file's (they were not: "got 151 of 128 bytes").
    @Test(arguments: [false, true]) func imageDownloadsAskForIdentity(ranges: Bool) throws {
        try Self.flashOverHTTP(.init(ranges: ranges, gzip: true)) { _, server, _ in
            let requests = server.requests()
            #expect(requests.contains { $0.path == "/pi.img.xz" })
            for request in requests {
                #expect(request.acceptEncoding == "identity", "\(request.path): Accept-Encoding \(request.acceptEncoding ?? "absent")")
            }
        }
    }

    /// A server that gzip-encodes although identity was asked for: the reply is decoded in one
    /// request, the decoded bytes are the file (SHA256SUMS checks them), and it is said.
    @Test func aServerThatEncodesAnywayIsDecoded() throws {
        try Self.flashOverHTTP(.init(ranges: true, gzipAlways: true)) { run, server, _ in
            #expect(run.stderr.contains("Content-Encoding: gzip although identity was asked for"), "\(run.stderr)")
            #expect(server.requests().allSatisfy { $0.acceptEncoding == "identity" })
        }
    }

    /// `pi.img.gz` sent with `Content-Encoding: gzip` (Apache's `AddEncoding gzip .gz`): what
    /// arrives is decoded, so the image is the decoded stream, fetched whole (ranges of an
    /// encoded body cannot be decoded apart), and SHA256SUMS' line for the .gz is not claimed.
    @Test(arguments: [false, true]) func aGzFileServedWithContentEncodingGzip(ranges: Bool) throws {
        try FlashFixture.withImage() { dir, image in
            let served = try dir.appendingPathComponent("served").creatingDirectory()
            let gz = served.appendingPathComponent("pi.img.gz").path
            try FileManager.default.copyItem(atPath: image, toPath: served.appendingPathComponent("pi.img").path)
            try ProcessRunner.check("gzip", ["-1", "-n", served.appendingPathComponent("pi.img").path])
            try #require(FileManager.default.fileExists(atPath: gz))
            try FlashFixture.writeSums(in: served, files: ["pi.img.gz"])
            let server = try LocalHTTPServer(directory: served, modes: .init(ranges: ranges, gzFiles: true))
            defer { server.stop() }

            let target = dir.appendingPathComponent("target.img").path
            let run = try Project.fpgaLab(["flash", server.url("pi.img.gz"), target])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(contentsOf: URL(fileURLWithPath: image)))
            #expect(run.stderr.contains("Content-Encoding: gzip"), "\(run.stderr)")
            #expect(!run.stdout.contains("SHA256SUMS ok"), "\(run.stdout)")
            #expect(server.requests().allSatisfy { $0.acceptEncoding == "identity" })
        }
    }

    /// A Content-Encoding nothing here decodes is refused by name, never mis-counted.
    @Test func anUndecodableContentEncodingIsRefused() throws {
        try FlashFixture.withImage() { dir, _ in
            let server = try LocalHTTPServer(directory: dir, modes: .init(ranges: true, encoding: "br"))
            defer { server.stop() }
            let run = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("t.img").path])
            #expect(run.status == 1)
            #expect(run.stderr.contains("fpga-lab: error: \(server.url("pi.img.xz")): "), "\(run.stderr)")
            #expect(run.stderr.contains("Content-Encoding: br"), "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("t.img").path))
        }
    }

    /// A server that stops sending after 500,000 bytes of every reply: `--timeout 2` ends the
    /// transfer. Without Range support the flash fails there, saying what timed out, after how
    /// long and how much had arrived; with it, the download resumes where it stopped (3 times)
    /// and then fails the same way, after 4 x 500,000 bytes.
    @Test(arguments: [false, true]) func aStalledServerTimesOut(ranges: Bool) throws {
        try FlashFixture.withImage() { dir, image in
            let size = try #require(try FileManager.default.attributesOfItem(atPath: image + ".xz")[.size] as? Int)
            try #require(size > 2_000_000)
            let out = try dir.appendingPathComponent("out").creatingDirectory()
            let server = try LocalHTTPServer(directory: dir, modes: .init(ranges: ranges, stallAfter: 500_000))
            defer { server.stop() }

            // What timed out, after how long, is asserted on the message, not on the clock.
            let run = try Project.fpgaLab(["flash", "--timeout", "2", server.url("pi.img.xz"), out.appendingPathComponent("t.img").path])
            #expect(run.status == 1)
            #expect(run.stderr.contains("fpga-lab: error: \(server.url("pi.img.xz")): "), "\(run.stderr)")
            #expect(run.stderr.contains("timed out"), "\(run.stderr)")
            #expect(run.stderr.contains("2 s"), "\(run.stderr)")
            #expect(run.stderr.contains("\(ranges ? 2_000_000 : 500_000) of \(size) bytes"), "\(run.stderr)")
            if ranges { #expect(run.stderr.contains("cut or stalled 4 times, resumed from where it stopped each time"), "\(run.stderr)") }
            #expect(!run.stderr.contains("NSURLErrorDomain"), "\(run.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["t.img"])
        }
    }

    /// Nothing listening: said in words, with the address.
    @Test func aClosedPortIsSaidInWords() throws {
        let dir = try Project.scratch("flash-closed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try LocalHTTPServer(directory: dir)
        server.stop()
        let run = try Project.fpgaLab(["flash", server.url("pi.img.xz"), dir.appendingPathComponent("t.img").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("cannot connect to 127.0.0.1:\(server.port)"), "\(run.stderr)")
        #expect(!run.stderr.contains("NSURLErrorDomain"), "\(run.stderr)")
    }
}

/// A download cut short (connection closed mid-body) is resumed from the byte where it stopped
/// with a Range request, as build-image's --base URL is; cut too often, it fails naming the URL
/// and the bytes received.
extension FlashIntegrationTests {
    static func cutModes(_ cuts: Int) -> LocalHTTPServer.Modes {
        var modes = LocalHTTPServer.Modes(ranges: true)
        modes.cutAfter = 300_000
        modes.cuts = cuts
        return modes
    }

    @Test func aCutDownloadIsResumedWhereItStopped() throws {
        try Self.flashOverHTTP(Self.cutModes(2)) { _, server, _ in
            // The image (about 3 MB) fits one 8 MiB range: a second request for it is the resume.
            let ranges = server.requests().filter { $0.path == "/pi.img.xz" }
            #expect(ranges.count >= 2, "\(ranges)")
        }
    }

    @Test func aDownloadCutTooOftenFailsClearly() throws {
        try FlashFixture.withImage() { dir, _ in
            let server = try LocalHTTPServer(directory: dir, modes: Self.cutModes(100))
            defer { server.stop() }
            let out = try dir.appendingPathComponent("out").creatingDirectory()
            let run = try Project.fpgaLab(["flash", server.url("pi.img.xz"), out.appendingPathComponent("t.img").path])
            #expect(run.status == 1)
            #expect(run.stderr.contains("fpga-lab: error: \(server.url("pi.img.xz")): download failed: cut or stalled 4 times, resumed from where it stopped each time; gave up after 1200000 of"),
                    "\(run.stderr)")
        }
    }
}
