/// How an image sets itself up on its first boot (docs/DESIGN.md, "First boot"), as build-image
/// and inspect find it, with the files that decide it. Raspberry Pi OS trixie runs cloud-init
/// with the NoCloud seed on bootfs; bookworm runs userconf-pi (bootfs `userconf.txt`).
public struct FirstBoot: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// cloud-init with the NoCloud seed read from bootfs (`user-data`, `meta-data`,
        /// `network-config`).
        case cloudInit = "cloud-init"
        /// userconf-pi: bootfs `userconf.txt` (`NAME:CRYPT`) renames uid 1000.
        case userconf = "userconf-pi"
        case none
    }

    /// Who brings the wired port up after first boot.
    public enum NetworkStack: String, Sendable {
        case networkManager = "NetworkManager"
        case networkd = "systemd-networkd"
        case none
    }

    public var kind: Kind
    public var network: NetworkStack
    /// uid 1000 from /etc/passwd: the user Raspberry Pi OS renames on first boot.
    public var firstUser: PasswdEntry?
    /// The image's /etc/passwd and seed files (nil: absent).
    public var passwd: [UInt8]?
    public var userData: [UInt8]?
    public var metaData: [UInt8]?
    public var networkConfig: [UInt8]?
    /// /var/lib/NetworkManager/NetworkManager.state: pi-gen writes `WirelessEnabled=false` when
    /// it was given no Wi-Fi country.
    public var networkManagerState: [UInt8]?

    public static let networkManagerStatePath = "var/lib/NetworkManager/NetworkManager.state"

    public init(kind: Kind, network: NetworkStack, passwd: [UInt8]? = nil, userData: [UInt8]? = nil,
                metaData: [UInt8]? = nil, networkConfig: [UInt8]? = nil, networkManagerState: [UInt8]? = nil) {
        self.kind = kind
        self.network = network
        self.passwd = passwd
        self.userData = userData
        self.metaData = metaData
        self.networkConfig = networkConfig
        self.networkManagerState = networkManagerState
        firstUser = passwd.flatMap { Passwd.entries($0).first { $0.uid == 1000 } }
    }

    /// One line for inspect and the manifest:
    /// `cloud-init (NoCloud seed on bootfs); network NetworkManager; uid 1000 pi, shell /usr/sbin/nologin`.
    public var summary: String {
        var text = switch kind {
        case .cloudInit: "cloud-init (NoCloud seed on bootfs)"
        case .userconf: "userconf-pi (bootfs userconf.txt)"
        case .none: "none found (neither cloud-init nor userconf-pi)"
        }
        text += "; network \(network == .none ? "none found" : network.rawValue)"
        if let user = firstUser { text += "; uid 1000 \(user.name), shell \(user.shell)" } else { text += "; no uid 1000" }
        return text
    }
}

/// A line of /etc/passwd.
public struct PasswdEntry: Equatable, Sendable {
    public var name: String
    public var uid: Int
    public var shell: String
    /// Byte range of the shell field in the file.
    var shellRange: Range<Int>
}

/// /etc/passwd, read and edited as bytes (every other byte kept).
public enum Passwd {
    /// Shells that refuse a login: a key-only ssh login then says "This account is currently
    /// not available".
    public static let noLoginShells: Set<String> = ["/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", ""]
    public static let loginShell = "/bin/bash"

    public static func entries(_ bytes: [UInt8]) -> [PasswdEntry] {
        var out: [PasswdEntry] = []
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
            let line = Array(bytes[start..<end])
            let colons = line.indices.filter { line[$0] == UInt8(ascii: ":") }
            if colons.count == 6, let uid = Int(String(decoding: line[(colons[1] + 1)..<colons[2]], as: UTF8.self)) {
                out.append(PasswdEntry(name: String(decoding: line[..<colons[0]], as: UTF8.self), uid: uid,
                                       shell: String(decoding: line[(colons[5] + 1)...], as: UTF8.self),
                                       shellRange: (start + colons[5] + 1)..<end))
            }
            start = end + 1
        }
        return out
    }

    /// `bytes` with `entry`'s shell set to `shell`.
    public static func settingShell(of entry: PasswdEntry, to shell: String, in bytes: [UInt8]) -> [UInt8] {
        Array(bytes[..<entry.shellRange.lowerBound]) + Array(shell.utf8) + Array(bytes[entry.shellRange.upperBound...])
    }
}
