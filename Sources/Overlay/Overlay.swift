/// The files fpga-lab puts on a Pi, in memory: one model feeding every sink (directory,
/// tarball, patched image), so all of them hold the same files with the same modes.
///
/// Paths are relative to the Pi's root (`etc/udev/rules.d/90-fpga-lab.rules`); boot-partition
/// files live under `boot/firmware/` as on a running bookworm system.
public struct Overlay: Equatable, Sendable {
    public private(set) var entries: [OverlayEntry] = []

    public init() {}

    /// Where the boot partition (bootfs) is mounted on the Pi.
    public static let bootPrefix = "boot/firmware"

    /// Adds or replaces an entry and creates its missing parent directories (0755 root:root).
    ///
    /// Every sink writes an entry at ROOT/PATH, so a path that could land anywhere else is
    /// refused: it must be relative, made of non-empty names other than `.` and `..`, without
    /// NUL bytes. Nothing may sit below a symlink of the overlay (a sink would write through
    /// it), and a symlink cannot replace a directory that holds entries.
    public mutating func add(_ entry: OverlayEntry) throws(OverlayPathError) {
        try Self.check(entry.path)
        var parent = entry.path
        while let slash = parent.lastIndex(of: "/") {
            parent = String(parent[..<slash])
            if case .symlink = self[parent]?.content { throw .belowSymlink(path: entry.path, link: parent) }
        }
        if case .symlink = entry.content, let index = entries.firstIndex(where: { $0.path.hasPrefix(entry.path + "/") }) {
            throw .belowSymlink(path: entries[index].path, link: entry.path)
        }
        parent = entry.path
        while let slash = parent.lastIndex(of: "/") {
            parent = String(parent[..<slash])
            if self[parent] == nil { insert(OverlayEntry(directory: parent)) }
        }
        insert(entry)
    }

    public mutating func addFile(_ path: String, _ text: String, mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) throws(OverlayPathError) {
        try add(OverlayEntry(path: path, content: .file(Array(text.utf8)), mode: mode, uid: uid, gid: gid))
    }

    /// Throws unless `path` is relative, with only non-empty names other than `.` and `..`.
    static func check(_ path: String) throws(OverlayPathError) {
        if path.isEmpty { throw .invalid(path: path, reason: "it is empty") }
        if path.hasPrefix("/") { throw .invalid(path: path, reason: "it is absolute") }
        if path.utf8.contains(0) { throw .invalid(path: path, reason: "it holds a NUL byte") }
        for name in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch name {
            case "": throw .invalid(path: path, reason: "it has an empty part")
            case ".", "..": throw .invalid(path: path, reason: "it has a '\(name)' part")
            default: continue
            }
        }
    }

    public subscript(path: String) -> OverlayEntry? {
        let index = position(of: path)
        return index < entries.count && entries[index].path == path ? entries[index] : nil
    }

    /// The entries under `boot/firmware/`, with paths relative to the boot partition.
    public var bootEntries: [OverlayEntry] {
        entries.compactMap { entry in
            guard entry.path.hasPrefix(Overlay.bootPrefix + "/") else { return nil }
            var relative = entry
            relative.path = String(entry.path.dropFirst(Overlay.bootPrefix.count + 1))
            return relative
        }
    }

    /// The entries that go onto the root filesystem (everything outside `boot/firmware`).
    public var rootEntries: [OverlayEntry] {
        entries.filter { $0.path != Overlay.bootPrefix && !$0.path.hasPrefix(Overlay.bootPrefix + "/") && $0.path != "boot" }
    }

    private mutating func insert(_ entry: OverlayEntry) {
        let index = position(of: entry.path)
        if index < entries.count, entries[index].path == entry.path {
            entries[index] = entry
        } else {
            entries.insert(entry, at: index)
        }
    }

    /// Entries stay sorted by path bytes, which puts every directory before its contents.
    private func position(of path: String) -> Int {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if Array(entries[mid].path.utf8).lexicographicallyPrecedes(Array(path.utf8)) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// One file, directory or symlink of an overlay, with exact ownership and permission bits.
public struct OverlayEntry: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        case directory
        case file([UInt8])
        case symlink(String)
    }

    public var path: String
    public var content: Content
    /// Permission bits only (0o7777).
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32

    public init(path: String, content: Content, mode: UInt16, uid: UInt32 = 0, gid: UInt32 = 0) {
        self.path = path
        self.content = content
        self.mode = mode
        self.uid = uid
        self.gid = gid
    }

    public init(directory path: String, mode: UInt16 = 0o755) {
        self.init(path: path, content: .directory, mode: mode)
    }

    public init(symlink path: String, target: String) {
        self.init(path: path, content: .symlink(target), mode: 0o777)
    }

    public var bytes: [UInt8]? {
        if case .file(let bytes) = content { return bytes }
        return nil
    }
}

/// An overlay path that would not stay below the root it is written to.
public enum OverlayPathError: Error, Equatable, CustomStringConvertible {
    case invalid(path: String, reason: String)
    /// `path` would be written through the overlay's own symlink `link`.
    case belowSymlink(path: String, link: String)

    public var description: String {
        switch self {
        case .invalid(let path, let reason):
            "overlay path \"\(path)\" is refused: \(reason) (paths are relative to the Pi's root, made of names other than '.' and '..')"
        case .belowSymlink(let path, let link):
            "overlay path \"\(path)\" is refused: \(link) is a symlink in the overlay, and nothing is written through a symlink"
        }
    }
}
