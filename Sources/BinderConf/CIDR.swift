/// An IPv4 or IPv6 network in CIDR notation; a bare address is a /32 or /128. The one CIDR of
/// fpga-lab: the lab config's `server.allow`, binder.conf's `allow` lines and usbip-binder's
/// `--allow` parse, print and match through it, so the lab config refuses exactly what the
/// binder would.
///
/// Two rules, the same everywhere:
/// - Host bits must be zero: `192.168.10.1/24` is refused (it usually hides a typo: was the
///   host or the network meant?), never silently widened to `192.168.10.0/24`.
/// - An IPv4-mapped IPv6 block (`::ffff:10.0.0.0/104`, or `::ffff:a00:0/104`) is the IPv4
///   block it maps (`10.0.0.0/8`): stored, compared and printed as IPv4. A dual-stack socket
///   reports IPv4 peers in that form, so both spellings admit the same clients. (A mapped
///   address with a prefix under 96 always has host bits set, so every IPv6 CIDR that is kept
///   is a real IPv6 one.)
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// Network address bytes (4 or 16), host bits cleared.
    public let address: [UInt8]
    public let prefix: Int

    public var isIPv6: Bool { address.count == 16 }

    /// What usbip-binder admits when no `allow` is given.
    public static let loopback: [CIDR] = [CIDR(uncheckedAddress: [127, 0, 0, 0], prefix: 8),
                                          CIDR(uncheckedAddress: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], prefix: 128)]

    private init(uncheckedAddress: [UInt8], prefix: Int) {
        self.address = uncheckedAddress
        self.prefix = prefix
    }

    /// Parses `192.168.10.0/24`, `10.1.2.3`, `fd00::/8`, `::1`, `::ffff:10.0.0.0/104`.
    public init(parsing text: String) throws(CIDRError) {
        let parts = ASCIIBytes.pieces(ASCIIBytes.bytes(text), 0x2f)
        guard parts.count <= 2, let bytes = IPAddress.parse(parts[0]) else { throw .malformed(text) }
        let maxPrefix = bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let value = ASCIIBytes.number(parts[1], radix: 10, maxDigits: 3), value <= maxPrefix
            else { throw .badPrefix(text, max: maxPrefix) }
            prefix = Int(value)
        }
        guard CIDR.hostBitsClear(bytes, prefix: prefix) else { throw .hostBitsSet(text) }
        if IPAddress.isMapped(bytes) && prefix >= 96 {
            self.init(uncheckedAddress: IPAddress.unmapped(bytes), prefix: prefix - 96)
        } else {
            self.init(uncheckedAddress: bytes, prefix: prefix)
        }
    }

    private static func hostBitsClear(_ bytes: [UInt8], prefix: Int) -> Bool {
        for bit in prefix..<(bytes.count * 8) where bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 { return false }
        return true
    }

    /// Whether `peer` (4 or 16 bytes) lies in the block. Both are compared in their 16-byte
    /// form, so `10.0.0.0/8` holds `::ffff:10.1.2.3` and `::/0` holds every IPv4 peer too.
    public func contains(_ peer: [UInt8]) -> Bool {
        guard peer.count == 4 || peer.count == 16 else { return false }
        return IPAddress.samePrefix(IPAddress.mapped(address), IPAddress.mapped(peer), bits: isIPv6 ? prefix : prefix + 96)
    }

    /// `192.168.10.0/24`, `10.1.2.3/32`, `fd00::/8` (RFC 5952), always with the prefix.
    public var description: String { IPAddress.format(address) + "/\(prefix)" }
}

/// Why a text is not a CIDR (or, for the lab config's interface addresses, not an address).
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
