extension BinderConfig {
    /// Parses the file's bytes. Errors carry the 1-based line; usbip-binder adds the path.
    public static func parse(_ bytes: [UInt8]) throws(BinderConfigError) -> BinderConfig {
        var config = BinderConfig()
        var portLine = 0
        var deadPeerLine = 0
        var lineNumber = 0
        for line in ASCIIBytes.pieces(bytes[...], 0x0a) {
            lineNumber += 1
            func fail(_ problem: BinderConfigError.Problem) -> BinderConfigError { BinderConfigError(line: lineNumber, problem: problem) }
            guard line.count <= maxLineBytes else { throw fail(.lineTooLong) }
            // Decoding replaces every ill-formed sequence with U+FFFD, so the bytes change.
            guard Array(String(decoding: line, as: UTF8.self).utf8) == Array(line) else { throw fail(.notUTF8) }
            let words = tokens(line)
            guard let directive = words.first else { continue }
            let args = Array(words.dropFirst())
            /// The one argument of a directive allowed once; `seenOn` is the line it was first on.
            func once<T>(_ seenOn: inout Int, _ value: (String) -> T?, _ bad: (String) -> BinderConfigError.Problem) throws(BinderConfigError) -> T {
                guard args.count == 1 else { throw fail(.arguments(directive)) }
                guard seenOn == 0 else { throw fail(.repeated(directive, firstLine: seenOn)) }
                guard let v = value(args[0]) else { throw fail(bad(args[0])) }
                seenOn = lineNumber
                return v
            }
            switch directive {
            case "port":
                config.port = try once(&portLine, port(parsing:), BinderConfigError.Problem.badPort)
            case "dead_peer_timeout":
                config.deadPeerTimeout = try once(&deadPeerLine, deadPeerTimeout(parsing:), BinderConfigError.Problem.badDeadPeerTimeout)
            case "allow":
                guard args.count == 1 else { throw fail(.arguments(directive)) }
                do { config.allow.append(try CIDR(parsing: args[0])) } catch { throw fail(.badCIDR(args[0], error)) }
            case "device":
                guard args.count >= 2 else { throw fail(.arguments(directive)) }
                do { config.devices.append(try Device(parsing: args)) } catch { throw fail(error) }
            default:
                throw fail(.unknownDirective(directive))
            }
        }
        return config
    }

    /// Whitespace-separated words up to a comment (`#` starting a word).
    private static func tokens(_ line: ArraySlice<UInt8>) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        for b in line {
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
}

extension BinderConfig.Device {
    /// `NAME VID:PID [serial=S] [port=P]`, the words after `device` (at least two).
    init(parsing args: [String]) throws(BinderConfigError.Problem) {
        let name = args[0]
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d })
        else { throw .badDeviceName(name) }
        let id = Array(args[1].utf8)
        guard id.count == 9, id[4] == 0x3a,
              id.allSatisfy({ $0 == 0x3a || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
              let vendor = ASCIIBytes.number(id[0..<4], radix: 16), let product = ASCIIBytes.number(id[5...], radix: 16)
        else { throw .badDeviceID(args[1]) }
        var serial: String?
        var port: String?
        for option in args.dropFirst(2) {
            if let value = Self.value(option, "serial="), serial == nil {
                serial = value
            } else if let value = Self.value(option, "port="), port == nil {
                port = value
            } else {
                throw .badDeviceOption(option)
            }
        }
        self.init(name: name, vendor: UInt16(vendor), product: UInt16(product), serial: serial, port: port)
    }

    /// The non-empty text after `key` in `option`, nil when it does not start with `key`.
    private static func value(_ option: String, _ key: String) -> String? {
        guard option.utf8.starts(with: key.utf8), option.utf8.count > key.utf8.count else { return nil }
        return String(decoding: option.utf8.dropFirst(key.utf8.count), as: UTF8.self)
    }
}
