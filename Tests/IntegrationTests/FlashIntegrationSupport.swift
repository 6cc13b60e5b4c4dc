import Foundation
import Testing
import TestSupport

/// Fixtures for the flash integration tests: a small partitioned image made by the real
/// tools, its bmap made by bmaptool, a local HTTP server, the fpga-lab binary.
enum FlashFixture {
    /// `body` given a fresh scratch directory holding the image of ``makeImage(in:)``:
    /// (directory, image); the directory is removed afterwards.
    static func withImage<T>(_ name: String = "flash", _ body: (URL, String) throws -> T) throws -> T {
        let dir = try Project.scratch(name)
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir, try makeImage(in: dir))
    }

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
        try ProcessRunner.check("truncate", ["-s", "\(megabytes)M", image])
        let layout = dir.appendingPathComponent("layout.sfdisk").path
        try Data("label: dos\nstart=2048, size=32768, type=c\nstart=34816, size=\(ext4MiB * 2048), type=83\n".utf8)
            .write(to: URL(fileURLWithPath: layout))
        try ProcessRunner.check("sh", ["-c", "sfdisk -q '\(image)' < '\(layout)'"])
        try fm.removeItem(atPath: layout)
        try ProcessRunner.check("truncate", ["-s", "16M", fat])
        try ProcessRunner.check("mkfs.vfat", ["-n", "BOOTFS", fat])
        try ProcessRunner.check("truncate", ["-s", "\(ext4MiB)M", ext4])
        try ProcessRunner.check("mkfs.ext4", ["-q", "-F", "-b", "4096", "-d", tree.path, ext4])
        try ProcessRunner.check("dd", ["if=\(fat)", "of=\(image)", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"])
        try ProcessRunner.check("dd", ["if=\(ext4)", "of=\(image)", "bs=1M", "seek=17", "conv=notrunc,sparse", "status=none"])
        try fm.removeItem(atPath: fat)
        try fm.removeItem(atPath: ext4)
        try fm.removeItem(at: tree)
        try ProcessRunner.check("bmaptool", ["create", "-o", image + ".bmap", image])
        try ProcessRunner.check("xz", ["-k", "-T1", "-1", image])
        try fm.copyItem(atPath: image + ".bmap", toPath: image + ".xz.bmap")
        try writeSums(in: dir, files: ["pi.img", "pi.img.bmap", "pi.img.xz", "pi.img.xz.bmap"])
        return image
    }

    /// SHA256SUMS for `files` of `dir`, by sha256sum.
    static func writeSums(in dir: URL, files: [String]) throws {
        let out = try ProcessRunner.check("sh", ["-c", "cd '\(dir.path)' && sha256sum \(files.joined(separator: " "))"])
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
}

/// A Python HTTP server on 127.0.0.1 with a free port picked by the kernel, serving a
/// directory; stopped by `stop()`. Without modes it answers as `python3 -m http.server` does
/// (200 and the whole file, Range ignored). Modes add what real servers do:
///
/// - `ranges`: Range support (206, Content-Range, ETag).
/// - `gzip`: replies gzip-encoded (200, the whole file, Range ignored) when the request's
///   Accept-Encoding allows gzip, as nginx's `gzip on` does.
/// - `gzipAlways`: replies gzip-encoded whatever the request asked for (a misbehaving server).
/// - `gzFiles`: `.gz` files sent with `Content-Encoding: gzip` whatever was asked (Apache's
///   `AddEncoding gzip .gz`); the bytes are the file's own.
/// - `encoding`: every file sent with this Content-Encoding, bytes unchanged.
/// - `stallAfter`: a body stops after this many bytes and the connection stays open.
/// - `redirects`: a request for one of these paths is answered 302 to its value (as
///   downloads.raspberrypi.com answers `/raspios_lite_arm64_latest`).
/// - `cutAfter`, `cuts`: the first `cuts` bodies are cut (the connection closed) after
///   `cutAfter` bytes, so a client must resume with a Range request.
///
/// - `requireAuthorization`: every request without exactly this Authorization value is
///   answered 401 (as the GitHub API answers without a token), redirects included.
/// - `rejectAuthorization`: any request carrying an Authorization (or GitLab's PRIVATE-TOKEN,
///   JOB-TOKEN) header is answered 400 (as GitHub's blob storage does).
/// - `requireHeader`: (name, value) every request must carry (GitLab's `PRIVATE-TOKEN`), else 401.
/// - `routes`: `path?query` -> a JSON body answered 200 (a REST API). A request matches when its
///   path is the same and its query holds the same parameters, in any order; `{ORIGIN}` in a
///   body is this server's `http://127.0.0.1:PORT`.
///
/// Every request's path, Accept-Encoding and whether it carried a credential header are logged, for
/// `requests()`.
final class LocalHTTPServer {
    struct Modes {
        var ranges = false
        var gzip = false
        var gzipAlways = false
        var gzFiles = false
        var encoding: String?
        var stallAfter: Int?
        var redirects: [String: String] = [:]
        var cutAfter: Int?
        var cuts = 0
        var requireAuthorization: String?
        var rejectAuthorization = false
        var requireHeader: (name: String, value: String)?
        var routes: [String: String] = [:]
    }

    let process: ProcessRunner.Background
    let port: Int
    private let log = URL(fileURLWithPath: NSTemporaryDirectory())
        .appendingPathComponent("fpga-lab-http-\(UUID().uuidString.prefix(8)).log")

    static let script = """
        import functools, gzip, http.server, io, json, os, re, socket, sys, threading, time
        from urllib.parse import urlsplit, parse_qs
        directory, modes, log = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]

        credential_headers = ("Authorization", "PRIVATE-TOKEN", "JOB-TOKEN")

        def route(path):
            asked = urlsplit(path)
            for key, body in modes.get("routes", {}).items():
                known = urlsplit(key)
                if known.path == asked.path and parse_qs(known.query, keep_blank_values=True) == parse_qs(asked.query, keep_blank_values=True):
                    return body.replace("{ORIGIN}", "http://127.0.0.1:%d" % server.server_address[1]).encode()
            return None
        stall = modes.get("stallAfter")
        cut_after, cuts_left, cuts_lock = modes.get("cutAfter"), [modes.get("cuts", 0)], threading.Lock()

        def allows_gzip(header):
            for item in header.split(","):
                name, _, params = item.strip().partition(";")
                q = re.search(r"q=([0-9.]+)", params)
                if name.strip().lower() in ("gzip", "x-gzip", "*") and (not q or float(q.group(1)) > 0):
                    return True
            return False

        class Handler(http.server.SimpleHTTPRequestHandler):
            def send_head(self):
                self.remaining = None
                with open(log, "a") as out:
                    out.write(json.dumps([self.path, self.headers.get("Accept-Encoding"),
                                          any(self.headers.get(h) is not None for h in credential_headers)]) + "\\n")
                authorization = self.headers.get("Authorization")
                if modes.get("rejectAuthorization") and any(self.headers.get(h) is not None for h in credential_headers):
                    self.send_error(400, "credentials not allowed here")
                    return None
                required = modes.get("requireAuthorization")
                if required is not None and authorization != required:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Bearer realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                needed = modes.get("requireHeader")
                if needed is not None and self.headers.get(needed[0]) != needed[1]:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                body = route(self.path)
                if body is not None:
                    return self.send_body(body, "Content-Type", "application/json")
                target = modes.get("redirects", {}).get(self.path)
                if target:
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                path = self.translate_path(self.path)
                if not os.path.isfile(path):
                    return super().send_head()
                size = os.path.getsize(path)
                headers = [("Content-Type", "application/octet-stream")]
                if modes.get("gzFiles") and path.endswith(".gz"):
                    headers.append(("Content-Encoding", "gzip"))
                if modes.get("encoding"):
                    headers.append(("Content-Encoding", modes["encoding"]))
                if modes.get("gzipAlways") or (modes.get("gzip") and allows_gzip(self.headers.get("Accept-Encoding", ""))):
                    with open(path, "rb") as file:
                        return self.send_body(gzip.compress(file.read()), "Content-Encoding", "gzip")
                match = re.fullmatch(r"bytes=(\\d+)-(\\d*)", self.headers.get("Range", ""))
                source = open(path, "rb")
                if modes.get("ranges") and match:
                    start = int(match.group(1))
                    end = min(int(match.group(2) or size - 1), size - 1)
                    if start >= size:
                        source.close()
                        self.send_error(416)
                        return None
                    source.seek(start)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                    self.send_header("ETag", f'"{os.stat(path).st_mtime_ns}-{size}"')
                    self.remaining = end - start + 1
                else:
                    self.send_response(200)
                    self.remaining = size
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(self.remaining))
                self.end_headers()
                return source

            def send_body(self, body, header, value):
                # 200 with `body` (bytes) and one more header; the body to copy, for copyfile.
                self.send_response(200)
                self.send_header(header, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.remaining = len(body)
                return io.BytesIO(body)

            def copyfile(self, source, output):
                if self.remaining is None:
                    return super().copyfile(source, output)
                left, sent = self.remaining, 0
                cut = False
                if cut_after is not None:
                    with cuts_lock:
                        if cuts_left[0] > 0:
                            cuts_left[0] -= 1
                            cut = True
                while left > 0:
                    if cut and sent >= cut_after:
                        output.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if stall is not None and sent >= stall:
                        output.flush()
                        time.sleep(3600)
                    block = source.read(min(left, 1 << 16, stall - sent if stall is not None else left,
                                            cut_after - sent if cut else left))
                    if not block:
                        break
                    output.write(block)
                    left -= len(block)
                    sent += len(block)

        handler = functools.partial(Handler, directory=directory)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    convenience init(directory: URL, ranges: Bool = false) throws {
        try self.init(directory: directory, modes: Modes(ranges: ranges))
    }

    init(directory: URL, modes: Modes) throws {
        var json: [String: Any] = ["ranges": modes.ranges, "gzip": modes.gzip, "gzipAlways": modes.gzipAlways, "gzFiles": modes.gzFiles]
        if let encoding = modes.encoding { json["encoding"] = encoding }
        if let stall = modes.stallAfter { json["stallAfter"] = stall }
        if !modes.redirects.isEmpty { json["redirects"] = modes.redirects }
        if let required = modes.requireAuthorization { json["requireAuthorization"] = required }
        if modes.rejectAuthorization { json["rejectAuthorization"] = true }
        if let header = modes.requireHeader { json["requireHeader"] = [header.name, header.value] }
        if !modes.routes.isEmpty { json["routes"] = modes.routes }
        if let cutAfter = modes.cutAfter {
            json["cutAfter"] = cutAfter
            json["cuts"] = modes.cuts
        }
        let arguments = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        // The script prints the port the kernel gave its socket (bound to port 0) first.
        let process = try ProcessRunner.Background("python3", ["-u", "-c", Self.script, directory.path, arguments, log.path])
        self.process = process
        let firstLine = { process.output.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) }
        try Wait.until("python3 http.server reports its port", context: { process.output }) {
            !process.isRunning || process.output.contains("\n")
        }
        guard process.output.contains("\n"), let line = firstLine(), let port = Int(line) else {
            Issue.record("python3 http.server did not start (is python3 installed?):\n\(process.output)")
            throw ProcessRunner.Failure(description: "python3 http.server did not start")
        }
        self.port = port
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// The requests served so far: path and Accept-Encoding (nil when the header was absent).
    func requests() -> [(path: String, acceptEncoding: String?)] {
        authorizedRequests().map { ($0.path, $0.acceptEncoding) }
    }

    /// The requests served so far, with whether each carried an Authorization header.
    func authorizedRequests() -> [(path: String, acceptEncoding: String?, authorization: Bool)] {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let pair = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any],
                  pair.count >= 2, let path = pair[0] as? String else { return nil }
            return (path, pair[1] as? String, pair.count > 2 && (pair[2] as? Bool) == true)
        }
    }

    /// SIGKILL, because children of the test runner inherit a signal mask blocking SIGTERM.
    func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: log)
    }
}

extension LocalHTTPServer {
    /// A pair like a forge's API and its blob storage: the blob server serves `directory` with
    /// `blobModes` and refuses (400) any request that carries a credential; the API serves an
    /// empty root beside it, wants `authorization` when given (401 without) and takes the rest
    /// of its modes (routes, redirects to the blob server, another credential header) from
    /// `configure`. The caller stops both; the blob server is stopped here when the API does
    /// not start.
    static func apiAndBlob(blob directory: URL, blobModes: Modes = Modes(ranges: true), authorization: String?,
                           _ configure: (LocalHTTPServer, inout Modes) throws -> Void) throws -> (api: LocalHTTPServer, blob: LocalHTTPServer) {
        var blobModes = blobModes
        blobModes.rejectAuthorization = true
        let blob = try LocalHTTPServer(directory: directory, modes: blobModes)
        do {
            let apiRoot = directory.deletingLastPathComponent().appendingPathComponent("api-root")
            try FileManager.default.createDirectory(at: apiRoot, withIntermediateDirectories: true)
            var apiModes = Modes()
            apiModes.requireAuthorization = authorization
            try configure(blob, &apiModes)
            return (try LocalHTTPServer(directory: apiRoot, modes: apiModes), blob)
        } catch {
            blob.stop()
            throw error
        }
    }
}

extension String {
    func between(_ start: String, _ end: String) -> String? {
        guard let a = range(of: start), let b = range(of: end, range: a.upperBound..<endIndex) else { return nil }
        return String(self[a.upperBound..<b.lowerBound])
    }
}
