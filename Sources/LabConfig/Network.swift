import BinderConf

/// `server.network`: a fixed address for the Pi's wired port (eth0), so clients can reach it,
/// and/or Wi-Fi. Without it the image keeps what it does by default (DHCP on eth0).
public struct Network: Equatable, Sendable {
    /// The wired port's addresses with their prefix (`192.168.1.50/24`, `fd00::50/64`); empty:
    /// DHCP (a lab with only `wifi`).
    public var addresses: [InterfaceAddress]
    /// The IPv4 default route (inside one of the IPv4 addresses' networks).
    public var gateway: InterfaceAddress?
    /// The IPv6 default route.
    public var gateway6: InterfaceAddress?
    /// Name servers, in order.
    public var dns: [InterfaceAddress]
    /// The Pi joins this network too (DHCP on it).
    public var wifi: WiFi?

    /// The interface every Raspberry Pi OS release names the built-in Ethernet port.
    public static let wiredInterface = "eth0"

    public init(addresses: [InterfaceAddress], gateway: InterfaceAddress? = nil, gateway6: InterfaceAddress? = nil,
                dns: [InterfaceAddress] = [], wifi: WiFi? = nil) {
        self.addresses = addresses
        self.gateway = gateway
        self.gateway6 = gateway6
        self.dns = dns
        self.wifi = wifi
    }
}

/// `server.network.wifi`: a WPA2-Personal network on the built-in radio (wlan0).
public struct WiFi: Equatable, Sendable {
    public var ssid: String
    /// A passphrase (8 to 63 printable ASCII characters) or a pre-shared key (64 hex digits), from
    /// `psk` or the file `psk_file` names.
    public var psk: String
    /// The regulatory domain, ISO 3166 alpha-2 (`DE`): Raspberry Pi OS keeps the radio off
    /// until one is set.
    public var country: String

    public static let interface = "wlan0"

    public init(ssid: String, psk: String, country: String) {
        self.ssid = ssid
        self.psk = psk
        self.country = country
    }

    /// Why `psk` is not a WPA passphrase or key (the value itself is never in the message).
    public static func pskProblem(_ psk: String) -> String? {
        let bytes = Array(psk.utf8)
        if bytes.count == 64, bytes.allSatisfy({ $0 < 128 && Character(Unicode.Scalar($0)).isHexDigit }) { return nil }
        if (8...63).contains(bytes.count), bytes.allSatisfy({ (0x20...0x7e).contains($0) }) { return nil }
        return "is not a WPA passphrase (8 to 63 printable ASCII characters) or pre-shared key (64 hex digits); it has \(bytes.count) bytes"
    }
}

/// An address of a host on a network, with the network's prefix length: unlike `CIDR`, the host
/// bits are the point. A bare address has no prefix (gateways, name servers).
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let prefix: Int?

    public var isIPv6: Bool { bytes.count == 16 }

    /// Parses `192.168.1.50/24`, `fd00::50/64`, or (`prefixed: false`) `192.168.1.1`.
    public init(parsing text: String, prefixed: Bool) throws(CIDRError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == (prefixed ? 2 : 1), let first = parts.first else {
            throw .malformed(text, expected: prefixed ? "ADDRESS/PREFIX (192.168.1.50/24)" : "an address without /PREFIX")
        }
        guard let bytes = IPAddress.parse(String(first)) else { throw .malformed(text) }
        self.bytes = bytes
        if prefixed {
            let maxPrefix = bytes.count * 8
            guard let value = Int(parts[1]), parts[1].allSatisfy(\.isASCII), (1...maxPrefix).contains(value)
            else { throw .badPrefix(text, max: maxPrefix) }
            prefix = value
            if !isIPv6, value < 31, (try? CIDR(parsing: text)) != nil { throw .networkAddress(text) }
        } else {
            prefix = nil
        }
    }

    /// Whether `other` lies in this address's network.
    public func contains(_ other: InterfaceAddress) -> Bool {
        guard let prefix else { return false }
        return IPAddress.samePrefix(bytes, other.bytes, bits: prefix)
    }

    /// The address (and prefix), IPv6 in its shortest form (RFC 5952).
    public var description: String {
        IPAddress.format(bytes) + (prefix.map { "/\($0)" } ?? "")
    }
}
