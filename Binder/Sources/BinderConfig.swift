import CBinder

/// `/etc/fpga-lab/binder.conf`, written by fpga-lab's renderer.
///
/// ```
/// # comment                 ('#' at line start or after a blank, to end of line)
/// port 3240                 (at most once; 1-65535)
/// dead_peer_timeout 30      (at most once; seconds, 5-3600: a vanished client's board is
///                            freed after this long; default 30)
/// allow 192.168.10.0/24     (repeatable; IPv4 or IPv6, /n optional = one host)
/// device NAME VID:PID [serial=S] [port=P]   (repeatable; names shown by `status`)
/// ```
/// Any other directive, a missing or extra argument, or a repeated `port` or
/// `dead_peer_timeout` is
/// an error naming the file and line. No `allow` line means loopback only.
struct BinderConfig {
    /// One `device` line.
    struct Device {
        let name: String
        let vendor: UInt16
        let product: UInt16
        let serial: String?
        let port: String?
    }

    static let defaultPath = "/etc/fpga-lab/binder.conf"

    /// What `dead_peer_timeout` may be (fpga-lab's lab config checks the same range).
    static let deadPeerRange = "5-3600"
    static let defaultDeadPeerSeconds: Int32 = 30

    var port: UInt16 = USBIP.defaultPort
    var deadPeerSeconds: Int32 = BinderConfig.defaultDeadPeerSeconds
    var allow: [CIDR] = []
    var devices: [Device] = []

    /// Reads and parses `path`. A missing file at the default path gives the
    /// defaults; a missing file named with `--config` is an error.
    static func load(path: String, explicit: Bool) throws(BinderError) -> BinderConfig {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            if case .system(_, _, let e) = error {
                if e == ENOENT && !explicit { return BinderConfig() }
                throw .configUnreadable(path: path, errno: e)
            }
            throw error
        }
        let text = String(decoding: bytes, as: UTF8.self)
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(BinderError) -> BinderConfig {
        var config = BinderConfig()
        var portLine = 0
        var deadPeerLine = 0
        var lineNumber = 0
        for rawLine in text.fields(0x0a, keepEmpty: true) {
            lineNumber += 1
            let words = tokens(rawLine)
            guard let directive = words.first else { continue }
            let args = Array(words.dropFirst())
            func fail(_ m: String) -> BinderError { .config(path: path, line: lineNumber, message: m) }
            switch directive {
            case "port":
                guard args.count == 1 else { throw fail("'port' takes one number") }
                guard portLine == 0 else { throw fail("'port' repeated (first on line \(portLine))") }
                guard let p = parsePort(args[0]) else { throw fail("bad port '\(args[0])' (1-65535)") }
                config.port = p
                portLine = lineNumber
            case "dead_peer_timeout":
                guard args.count == 1 else { throw fail("'dead_peer_timeout' takes one number of seconds") }
                guard deadPeerLine == 0 else { throw fail("'dead_peer_timeout' repeated (first on line \(deadPeerLine))") }
                guard let t = parseDeadPeerTimeout(args[0]) else { throw fail("bad dead_peer_timeout '\(args[0])' (seconds, \(deadPeerRange))") }
                config.deadPeerSeconds = t
                deadPeerLine = lineNumber
            case "allow":
                guard args.count == 1 else { throw fail("'allow' takes one CIDR") }
                guard let c = CIDR(parsing: args[0]) else { throw fail("bad CIDR '\(args[0])'") }
                config.allow.append(c)
            case "device":
                config.devices.append(try parseDevice(args, fail))
            default:
                throw fail("unknown directive '\(directive)'")
            }
        }
        return config
    }

    private static func parseDevice(_ args: [String], _ fail: (String) -> BinderError) throws(BinderError) -> Device {
        guard args.count >= 2 else { throw fail("'device' needs NAME VID:PID") }
        let name = args[0]
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d })
        else { throw fail("bad device name '\(name)' ([a-z0-9-]+)") }
        let id = Array(args[1].utf8)
        guard id.count == 9, id[4] == 0x3a,
            id.allSatisfy({ $0 == 0x3a || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
            let vid = parseNumber(String(decoding: id[0..<4], as: UTF8.self), radix: 16),
            let pid = parseNumber(String(decoding: id[5...], as: UTF8.self), radix: 16)
        else { throw fail("bad id '\(args[1])' (vid:pid, lowercase hex)") }
        var serial: String?
        var port: String?
        for option in args.dropFirst(2) {
            if option.startsWith("serial="), serial == nil, option.utf8.count > 7 {
                serial = option.droppingBytes(7)
            } else if option.startsWith("port="), port == nil, option.utf8.count > 5 {
                port = option.droppingBytes(5)
            } else {
                throw fail("bad device option '\(option)' (serial=S or port=P, each once)")
            }
        }
        return Device(name: name, vendor: UInt16(vid), product: UInt16(pid), serial: serial, port: port)
    }

    /// Name of the first `device` line matching (vid, pid, serial, port), if any.
    func name(vendor: UInt16, product: UInt16, serial: String, busID: String) -> String? {
        for d in devices where d.vendor == vendor && d.product == product {
            if let s = d.serial, s != serial { continue }
            if let p = d.port, p != busID { continue }
            return d.name
        }
        return nil
    }
}

/// Whitespace-separated words up to a comment.
private func tokens(_ line: String) -> [String] {
    var words: [String] = []
    var current: [UInt8] = []
    for b in line.utf8 {
        if b == 0x20 || b == 0x09 || b == 0x0d {
            if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
            current = []
        } else if b == 0x23 && current.isEmpty {
            break
        } else {
            current.append(b)
        }
    }
    if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
    return words
}

/// Seconds, 5-3600.
func parseDeadPeerTimeout(_ s: String) -> Int32? {
    guard s.utf8.count <= 4, s.utf8.first != 0x20, let n = parseNumber(s, radix: 10), n >= 5, n <= 3600 else { return nil }
    return Int32(n)
}

func parsePort(_ s: String) -> UInt16? {
    guard s.utf8.count <= 5, s.utf8.first != 0x20, let n = parseNumber(s, radix: 10), n >= 1, n <= 65535 else { return nil }
    return UInt16(n)
}
