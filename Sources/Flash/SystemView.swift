import Foundation

/// A device number as sysfs and mountinfo write it: `major:minor`.
public struct DeviceNumber: Hashable, Sendable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    /// Parses `8:16`.
    public init?(_ text: some StringProtocol) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
        guard parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    /// Splits a `dev_t` the way glibc's `major()`/`minor()` do.
    public init(_ dev: UInt64) {
        major = UInt32(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff))
        minor = UInt32((dev & 0xff) | ((dev >> 12) & ~0xff))
    }

    public var description: String { "\(major):\(minor)" }
}

/// The few system facts the safety checks read, behind one seam so tests fake them:
/// a sysfs root (`/sys`), the mount table (`/proc/self/mountinfo`), active swap
/// (`/proc/swaps`) and the device `/` lives on.
public struct SystemView: Sendable {
    public var sysfsRoot: String
    public var mountInfo: String
    public var swaps: String
    /// The device holding `/` (stat("/").st_dev); nil when unknown.
    public var rootDevice: DeviceNumber?

    public init(sysfsRoot: String = "/sys", mountInfo: String = "/proc/self/mountinfo",
                swaps: String = "/proc/swaps", rootDevice: DeviceNumber? = SystemView.deviceOfRoot()) {
        self.sysfsRoot = sysfsRoot
        self.mountInfo = mountInfo
        self.swaps = swaps
        self.rootDevice = rootDevice
    }

    /// `stat("/").st_dev`.
    public static func deviceOfRoot() -> DeviceNumber? {
        var status = stat()
        guard stat("/", &status) == 0 else { return nil }
        return DeviceNumber(UInt64(status.st_dev))
    }

    /// One mount: the device number, where, and what the table calls its source.
    public struct Mount: Equatable, Sendable {
        public var device: DeviceNumber
        public var mountPoint: String
        public var source: String
    }

    /// Parses mountinfo lines:
    /// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
    /// (ID, parent, major:minor, root, mount point, options, optional fields, `-`, type, source, ...).
    public func mounts() -> [Mount] {
        guard let text = try? String(contentsOfFile: mountInfo, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 7, let device = DeviceNumber(fields[2]),
                  let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count else { return nil }
            return Mount(device: device, mountPoint: Self.unescape(fields[4]), source: Self.unescape(fields[dash + 2]))
        }
    }

    /// Paths of active swap areas (first column of /proc/swaps after its header).
    public func swapAreas() -> [String] {
        guard let text = try? String(contentsOfFile: swaps, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// mountinfo escapes space, tab, newline and backslash as `\ooo`.
    static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        var chars = Array(field.utf8)[...]
        while let c = chars.popFirst() {
            if c == UInt8(ascii: "\\"), chars.count >= 3,
               let value = UInt8(String(decoding: chars.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                chars = chars.dropFirst(3)
            } else {
                bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
