import Foundation
import Testing

/// Fixtures for the flash integration tests: a small partitioned image made by the real
/// tools, its bmap made by bmaptool, a local HTTP server, the fpga-lab binary.
enum FlashFixture {
    /// Makes `dir/pi.img` (64 MiB, sparse): MBR by sfdisk, a 16 MiB FAT (mkfs.vfat) at 1 MiB
    /// and an ext4 (mkfs.ext4 -d) after it, holding a few files; then `pi.img.bmap`
    /// (bmaptool create), `pi.img.xz` (xz -k) and SHA256SUMS (sha256sum) for both.
    static func makeImage(in dir: URL, megabytes: Int = 64) throws -> String {
        let fm = FileManager.default
        let tree = dir.appendingPathComponent("tree")
        try fm.createDirectory(at: tree.appendingPathComponent("etc"), withIntermediateDirectories: true)
        try fm.createDirectory(at: tree.appendingPathComponent("usr/bin"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: "/usr/bin/env", toPath: tree.appendingPathComponent("usr/bin/env").path)
        try Data("fpga-pi\n".utf8).write(to: tree.appendingPathComponent("etc/hostname"))
        var random = SystemRandomNumberGenerator()
        try Data((0..<3_000_000).map { _ in UInt8.random(in: 0...255, using: &random) })
            .write(to: tree.appendingPathComponent("usr/bin/blob"))

        let image = dir.appendingPathComponent("pi.img").path
        let fat = dir.appendingPathComponent("fat.part").path
        let ext4 = dir.appendingPathComponent("ext4.part").path
        let ext4MiB = megabytes - 18
        try Ext4Tools.run("truncate", ["-s", "\(megabytes)M", image])
        let layout = dir.appendingPathComponent("layout.sfdisk").path
        try Data("label: dos\nstart=2048, size=32768, type=c\nstart=34816, size=\(ext4MiB * 2048), type=83\n".utf8)
            .write(to: URL(fileURLWithPath: layout))
        try Ext4Tools.run("sh", ["-c", "sfdisk -q '\(image)' < '\(layout)'"])
        try fm.removeItem(atPath: layout)
        try Ext4Tools.run("truncate", ["-s", "16M", fat])
        try Ext4Tools.run("mkfs.vfat", ["-n", "BOOTFS", fat])
        try Ext4Tools.run("truncate", ["-s", "\(ext4MiB)M", ext4])
        try Ext4Tools.run("mkfs.ext4", ["-q", "-F", "-b", "4096", "-d", tree.path, ext4])
        try Ext4Tools.run("dd", ["if=\(fat)", "of=\(image)", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"])
        try Ext4Tools.run("dd", ["if=\(ext4)", "of=\(image)", "bs=1M", "seek=17", "conv=notrunc,sparse", "status=none"])
        try fm.removeItem(atPath: fat)
        try fm.removeItem(atPath: ext4)
        try fm.removeItem(at: tree)
        try Ext4Tools.run("bmaptool", ["create", "-o", image + ".bmap", image])
        try Ext4Tools.run("xz", ["-k", "-T1", "-1", image])
        try fm.copyItem(atPath: image + ".bmap", toPath: image + ".xz.bmap")
        try writeSums(in: dir, files: ["pi.img", "pi.img.bmap", "pi.img.xz", "pi.img.xz.bmap"])
        return image
    }

    /// SHA256SUMS for `files` of `dir`, by sha256sum.
    static func writeSums(in dir: URL, files: [String]) throws {
        let out = try Ext4Tools.run("sh", ["-c", "cd '\(dir.path)' && sha256sum \(files.joined(separator: " "))"])
        try Data(out.stdout.utf8).write(to: dir.appendingPathComponent("SHA256SUMS"))
    }

    /// Mapped byte ranges of a bmap as bmaptool wrote it.
    static func mappedRanges(_ bmapPath: String) throws -> [Range<Int>] {
        let xml = try String(contentsOfFile: bmapPath, encoding: .utf8)
        let blockSize = Int(xml.between("<BlockSize>", "</BlockSize>")!.trimmingCharacters(in: .whitespaces))!
        let imageSize = Int(xml.between("<ImageSize>", "</ImageSize>")!.trimmingCharacters(in: .whitespaces))!
        var ranges: [Range<Int>] = []
        for piece in xml.components(separatedBy: "<Range").dropFirst() {
            let text = piece.between(">", "</Range>")!.trimmingCharacters(in: .whitespaces)
            let bounds = text.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces))! }
            ranges.append(bounds[0] * blockSize..<min((bounds.last! + 1) * blockSize, imageSize))
        }
        return ranges
    }

    /// Whether `a` and `b` hold the same bytes on every range.
    static func sameBytes(_ a: String, _ b: String, on ranges: [Range<Int>]) throws -> Bool {
        let left = try Data(contentsOf: URL(fileURLWithPath: a), options: .alwaysMapped)
        let right = try Data(contentsOf: URL(fileURLWithPath: b), options: .alwaysMapped)
        return ranges.allSatisfy { range in
            range.upperBound <= left.count && range.upperBound <= right.count && left[range] == right[range]
        }
    }

    /// The fpga-lab executable built beside the test bundle.
    static func binary() throws -> String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [directory, directory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("fpga-lab").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        Issue.record("the fpga-lab executable is not built beside \(directory.path): run swift build first")
        throw CocoaError(.fileNoSuchFile)
    }

    /// Runs `fpga-lab ARGS`.
    static func fpgaLab(_ arguments: [String]) throws -> Ext4Tools.Output {
        try Ext4Tools.run(try binary(), arguments, check: false)
    }
}

/// A Python HTTP server on 127.0.0.1 with a free port picked by the kernel, serving a
/// directory; stopped by `stop()`. `ranges: false` is `python3 -m http.server`'s handler,
/// which ignores Range headers; `ranges: true` adds Range support as real servers have it.
final class LocalHTTPServer {
    let process = Process()
    let port: Int

    static let script = """
        import functools, http.server, os, re, sys
        class Ranges(http.server.SimpleHTTPRequestHandler):
            def send_head(self):
                match = re.fullmatch(r"bytes=(\\d+)-(\\d*)", self.headers.get("Range", ""))
                path = self.translate_path(self.path)
                if not match or not os.path.isfile(path):
                    return super().send_head()
                size = os.path.getsize(path)
                start = int(match.group(1))
                end = min(int(match.group(2) or size - 1), size - 1)
                if start >= size:
                    self.send_error(416)
                    return None
                source = open(path, "rb")
                source.seek(start)
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("ETag", f'"{os.stat(path).st_mtime_ns}-{size}"')
                self.end_headers()
                self.remaining = end - start + 1
                return source
            def copyfile(self, source, output):
                left = getattr(self, "remaining", None)
                if left is None:
                    return super().copyfile(source, output)
                while left > 0:
                    block = source.read(min(left, 1 << 16))
                    if not block:
                        break
                    output.write(block)
                    left -= len(block)
        base = Ranges if sys.argv[2] == "ranges" else http.server.SimpleHTTPRequestHandler
        handler = functools.partial(base, directory=sys.argv[1])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    init(directory: URL, ranges: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-c", Self.script, directory.path, ranges ? "ranges" : "plain"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Ext4Tools.ToolFailure(description: "python3 http.server did not start (is python3 installed?)")
        }
        self.port = port
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// SIGKILL, because children of the test runner inherit a signal mask blocking SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension String {
    func between(_ start: String, _ end: String) -> String? {
        guard let a = range(of: start), let b = range(of: end, range: a.upperBound..<endIndex) else { return nil }
        return String(self[a.upperBound..<b.lowerBound])
    }
}
