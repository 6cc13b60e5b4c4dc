import CBinder

/// The seam between the binder and sysfs: every path is relative to `root`
/// (`/sys` on a Pi, a fake tree in tests), and every access goes through here.
struct Sysfs {
    /// Absolute path of the tree, without trailing slash.
    let root: String

    init(root: String) {
        var r = root
        while r.utf8.count > 1 && r.endsWith("/") { r = String(ascii: r.utf8.dropLast()) }
        self.root = r
    }

    func path(_ rel: String) -> String { root + "/" + rel }

    /// Contents of an attribute file without trailing newline or blanks; nil when unreadable.
    func read(_ rel: String) -> String? {
        guard var bytes = try? readFile(path(rel)) else { return nil }
        while let last = bytes.last, last == 0x0a || last == 0x20 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` and a newline to an existing attribute in one `write(2)`,
    /// as `echo text > attr` does. Never creates files. O_APPEND is ignored by
    /// sysfs and makes a fake tree keep every command written to it.
    func write(_ rel: String, _ text: String) throws(BinderError) {
        let p = path(rel)
        let fd = withCString(p) { binder_open($0, O_WRONLY | O_APPEND) }
        guard fd >= 0 else { throw .system(what: "cannot open", path: p, errno: binder_errno()) }
        defer { close(fd) }
        var line = text + "\n"
        let (n, e) = line.withUTF8 { buf -> (Int, Int32) in
            let n = CBinder.write(fd, buf.baseAddress, buf.count)
            return (n, n < 0 ? binder_errno() : 0)
        }
        guard n >= 0 else { throw .system(what: "cannot write '\(text)' to", path: p, errno: e) }
    }

    /// Target of a symlink, nil when `rel` is not one.
    func readlink(_ rel: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = withCString(path(rel)) { p in buf.withUnsafeMutableBufferPointer { CBinder.readlink(p, $0.baseAddress, $0.count - 1) } }
        guard n > 0 else { return nil }
        let bytes = buf[0..<n].map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Last path component of a symlink's target (`driver` -> "usbip-host").
    func linkName(_ rel: String) -> String? {
        guard let t = readlink(rel) else { return nil }
        return lastComponent(t)
    }

    func exists(_ rel: String) -> Bool {
        withCString(path(rel)) { access($0, F_OK) } == 0
    }

    /// Canonical path of `rel` relative to the (canonical) root, e.g.
    /// `bus/usb/devices/1-1.3` -> `devices/platform/soc/usb1/1-1/1-1.3`.
    func resolve(_ rel: String) -> String? {
        guard let full = realPath(path(rel)), let base = realPath(root) else { return nil }
        let prefix = base == "/" ? "/" : base + "/"
        guard full.startsWith(prefix) else { return nil }
        return full.droppingBytes(prefix.utf8.count)
    }

    /// Names in a directory, sorted, without `.` and `..`; empty when unreadable.
    func list(_ rel: String) -> [String] {
        guard let dir = withCString(path(rel), { opendir($0) }) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = String(cString: binder_dirent_name(e))
            if name != "." && name != ".." { names.append(name) }
        }
        names.sort { $0.bytesPrecede($1) }
        return names
    }

    private func realPath(_ p: String) -> String? {
        guard let r = withCString(p, { realpath($0, nil) }) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}

/// Calls `body` with a NUL-terminated copy of `s`.
func withCString<R>(_ s: String, _ body: (UnsafePointer<CChar>) -> R) -> R {
    var bytes = Array(s.utf8).map { CChar(bitPattern: $0) }
    bytes.append(0)
    return bytes.withUnsafeBufferPointer { body($0.baseAddress!) }
}

func lastComponent(_ path: String) -> String {
    path.fields(0x2f).last ?? ""
}

/// The whole content of a file.
func readFile(_ path: String) throws(BinderError) -> [UInt8] {
    let fd = withCString(path) { binder_open($0, O_RDONLY) }
    guard fd >= 0 else { throw .system(what: "cannot open", path: path, errno: binder_errno()) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && binder_errno() == EINTR { continue }
        guard n >= 0 else { throw .system(what: "cannot read", path: path, errno: binder_errno()) }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}
