#if canImport(USBIPWire)
import USBIPWire
#endif

/// `/etc/fpga-lab/binder.conf`: what fpga-lab's renderer writes (`encode`) and usbip-binder
/// reads (`parse`), defined here once.
///
/// ```
/// # comment                 ('#' at line start or after a blank, to end of line)
/// port 3240                 (at most once; 1-65535)
/// dead_peer_timeout 30      (at most once; seconds, 5-3600: a vanished client's board is
///                            freed after this long; default 30)
/// allow 192.168.10.0/24     (repeatable; a CIDR as `CIDR` reads it, /n optional = one host)
/// device NAME VID:PID [serial=S] [port=P]   (repeatable; names shown by `status`)
/// ```
/// Any other directive, a missing or extra argument, a repeated `port` or `dead_peer_timeout`,
/// bytes that are not UTF-8 or a line over `maxLineBytes` is an error naming the line. No
/// `allow` line means loopback only (`CIDR.loopback`).
public struct BinderConfig: Equatable, Sendable {
    /// One `device` line: a board's name for one of its IDs, narrowed by serial or port path.
    public struct Device: Equatable, Sendable {
        /// `[a-z0-9-]+`.
        public var name: String
        public var vendor: UInt16
        public var product: UInt16
        /// Non-empty, without blanks (as the lab config's `serial:` is).
        public var serial: String?
        /// The kernel's name of the port (`1-1.3`).
        public var port: String?

        public init(name: String, vendor: UInt16, product: UInt16, serial: String? = nil, port: String? = nil) {
            self.name = name
            self.vendor = vendor
            self.product = product
            self.serial = serial
            self.port = port
        }
    }

    /// What `dead_peer_timeout` may be (the lab config's `server.dead_peer_timeout` too).
    public static let deadPeerTimeoutRange: ClosedRange<Int32> = 5...3600
    public static let defaultDeadPeerTimeout: Int32 = 30
    /// A longer line is refused before it is split (the longest valid `device` line is about
    /// 250 bytes).
    public static let maxLineBytes = 1024

    public var port: UInt16
    /// Seconds after which a vanished client's board is freed.
    public var deadPeerTimeout: Int32
    public var allow: [CIDR]
    public var devices: [Device]

    public init(port: UInt16 = USBIP.defaultPort, deadPeerTimeout: Int32 = BinderConfig.defaultDeadPeerTimeout,
                allow: [CIDR] = [], devices: [Device] = []) {
        self.port = port
        self.deadPeerTimeout = deadPeerTimeout
        self.allow = allow
        self.devices = devices
    }

    /// The file's text: `comment` (each of its lines after `# `), then `port` and
    /// `dead_peer_timeout` always, then one line per `allow` block and per device, in order.
    /// `parse` gives back an equal value for every config whose fields hold what the format
    /// allows (the lab config checks them).
    public func encode(comment: String? = nil) -> String {
        var out = ""
        if let comment {
            for line in ASCIIBytes.pieces(ASCIIBytes.bytes(comment), 0x0a) {
                out += "# " + String(decoding: line, as: UTF8.self) + "\n"
            }
        }
        out += "port \(port)\n"
        out += "dead_peer_timeout \(deadPeerTimeout)\n"
        for block in allow { out += "allow \(block)\n" }
        for d in devices {
            out += "device \(d.name) \(USBIP.hex(UInt32(d.vendor), width: 4)):\(USBIP.hex(UInt32(d.product), width: 4))"
            if let serial = d.serial { out += " serial=" + serial }
            if let port = d.port { out += " port=" + port }
            out += "\n"
        }
        return out
    }

    /// A TCP port, 1-65535 (binder.conf `port`, usbip-binder `--port`).
    public static func port(parsing text: String) -> UInt16? {
        guard let n = ASCIIBytes.number(ASCIIBytes.bytes(text), radix: 10, maxDigits: 5), n >= 1, n <= 65535 else { return nil }
        return UInt16(n)
    }

    /// Seconds within `deadPeerTimeoutRange` (binder.conf `dead_peer_timeout`, usbip-binder
    /// `--dead-peer-timeout`).
    public static func deadPeerTimeout(parsing text: String) -> Int32? {
        guard let n = ASCIIBytes.number(ASCIIBytes.bytes(text), radix: 10, maxDigits: 4), deadPeerTimeoutRange.contains(Int32(n)) else { return nil }
        return Int32(n)
    }

    /// `deadPeerTimeoutRange` as messages write it (a literal: interpolating the bounds costs
    /// the binder more code than the text; BinderConfTests checks that they agree).
    public static let deadPeerTimeoutRangeText = "5-3600"
}
