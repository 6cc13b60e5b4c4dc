/// An IPv4 or IPv6 network in CIDR notation; a bare address is a /32 or /128.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// Network address bytes (4 or 16), host bits cleared.
    public let address: [UInt8]
    public let prefix: Int

    public var isIPv6: Bool { address.count == 16 }

    /// Parses `192.168.10.0/24`, `10.1.2.3`, `fd00::/8`, `::1`. Host bits must be zero
    /// (`192.168.10.1/24` is refused: it usually hides a typo).
    public init(parsing text: String) throws(CIDRError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = parts.first else { throw .malformed(text) }
        let bytes: [UInt8]
        if first.contains(":") {
            guard let v6 = CIDR.parseIPv6(String(first)) else { throw .malformed(text) }
            bytes = v6
        } else {
            guard let v4 = CIDR.parseIPv4(String(first)) else { throw .malformed(text) }
            bytes = v4
        }
        let maxPrefix = bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCII), (0...maxPrefix).contains(value)
            else { throw .badPrefix(text, max: maxPrefix) }
            prefix = value
        }
        for bit in prefix..<maxPrefix where bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            throw .hostBitsSet(text)
        }
        self.address = bytes
        self.prefix = prefix
    }

    public var description: String {
        let host: String
        if isIPv6 {
            host = stride(from: 0, to: 16, by: 2)
                .map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        } else {
            host = address.map(String.init).joined(separator: ".")
        }
        return "\(host)/\(prefix)"
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII),
                  let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }
}

public enum CIDRError: Error, Equatable, CustomStringConvertible {
    case malformed(String, expected: String? = nil)
    case badPrefix(String, max: Int)
    case hostBitsSet(String)
    /// An interface address that is its network's own address (`192.168.1.0/24`).
    case networkAddress(String)

    public var description: String {
        switch self {
        case .malformed(let text, let expected?): "\"\(text)\" is not \(expected)"
        case .malformed(let text, nil): "\"\(text)\" is not an IPv4/IPv6 address or CIDR"
        case .networkAddress(let text): "\"\(text)\" is the network's own address, not a host on it"
        case .badPrefix(let text, let max): "\"\(text)\" has a prefix length outside 0...\(max)"
        case .hostBitsSet(let text): "\"\(text)\" has host bits set after the prefix"
        }
    }
}
