#if canImport(USBIPWire)
import USBIPWire
#endif

/// IPv4 and IPv6 addresses as bytes (4 or 16) and as text. The one address parser and
/// formatter of fpga-lab: the lab config's `server.allow` and `server.network`, binder.conf's
/// `allow` lines and the peers usbip-binder logs all go through it.
public enum IPAddress {
    /// `a.b.c.d`, each part 1 to 3 decimal digits up to 255.
    static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = ASCIIBytes.pieces(text, 0x2e)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard let n = ASCIIBytes.number(part, radix: 10, maxDigits: 3), n <= 255 else { return nil }
            out.append(UInt8(n))
        }
        return out
    }

    /// RFC 4291 text form: eight groups of up to four hex digits, one `::` standing for a run
    /// of zero groups, optionally a dotted IPv4 tail (`::ffff:10.1.2.3`).
    static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let b = Array(text)
        var gap = -1
        var i = 0
        while i + 1 < b.count {
            if b[i] == 0x3a && b[i + 1] == 0x3a {
                guard gap < 0 else { return nil }
                gap = i
                i += 2
            } else {
                i += 1
            }
        }
        let left = gap < 0 ? b[...] : b[..<gap]
        let right = gap < 0 ? [] : b[(gap + 2)...]
        guard let head = groups(left, last: gap < 0), let tail = groups(right, last: true) else { return nil }
        let total = head.count + tail.count
        guard gap >= 0 ? total < 8 : total == 8 else { return nil }
        var out: [UInt8] = []
        for g in head + [UInt16](repeating: 0, count: 8 - total) + tail {
            out.append(UInt8(g >> 8))
            out.append(UInt8(g & 0xff))
        }
        return out
    }

    /// An IPv6 address (4 or 16 bytes) if the text has a `:`, else an IPv4 one; nil when it
    /// is neither.
    public static func parse(_ text: String) -> [UInt8]? { parse(ASCIIBytes.bytes(text)) }

    static func parse(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        text.contains(0x3a) ? parseIPv6(text) : parseIPv4(text)
    }

    /// Colon-separated hex groups; when `last`, the final group may be dotted IPv4.
    private static func groups(_ bytes: ArraySlice<UInt8>, last: Bool) -> [UInt16]? {
        if bytes.isEmpty { return [] }
        let pieces = ASCIIBytes.pieces(bytes, 0x3a)
        var out: [UInt16] = []
        for (n, piece) in pieces.enumerated() {
            if last && n == pieces.count - 1 && piece.contains(0x2e) {
                guard let v4 = parseIPv4(piece) else { return nil }
                out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                continue
            }
            guard let v = ASCIIBytes.number(piece, radix: 16, maxDigits: 4) else { return nil }
            out.append(UInt16(v))
        }
        return out
    }

    /// The prefix `::ffff:0:0/96` under which IPv4 addresses appear as IPv6 (RFC 4291 2.5.5.2):
    /// what a dual-stack socket reports for an IPv4 peer.
    static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]

    /// Whether `bytes` is an IPv4-mapped IPv6 address.
    public static func isMapped(_ bytes: [UInt8]) -> Bool {
        bytes.count == 16 && bytes.starts(with: mappedPrefix)
    }

    /// The 16-byte form: IPv4 as IPv4-mapped IPv6, IPv6 as it is.
    public static func mapped(_ bytes: [UInt8]) -> [UInt8] {
        bytes.count == 4 ? mappedPrefix + bytes : bytes
    }

    /// The IPv4 address of an IPv4-mapped one, any other address as it is.
    public static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        isMapped(bytes) ? Array(bytes[12...]) : bytes
    }

    /// Whether the first `prefix` bits of `a` and `b` (of one length) are the same.
    public static func samePrefix(_ a: [UInt8], _ b: [UInt8], bits prefix: Int) -> Bool {
        guard a.count == b.count, prefix <= a.count * 8 else { return false }
        for bit in 0..<prefix where (a[bit / 8] ^ b[bit / 8]) & (0x80 >> UInt8(bit % 8)) != 0 {
            return false
        }
        return true
    }

    /// Text of 4 or 16 bytes: `a.b.c.d`, or RFC 5952 (lowercase, the longest run of two or
    /// more zero groups as `::`, the first of equal runs), an IPv4-mapped address as
    /// `::ffff:a.b.c.d` (RFC 5952 section 5).
    public static func format(_ b: [UInt8]) -> String {
        if b.count == 4 { return "\(b[0]).\(b[1]).\(b[2]).\(b[3])" }
        if isMapped(b) { return "::ffff:" + format(Array(b[12...])) }
        var groups: [UInt32] = []
        for i in 0..<8 { groups.append(UInt32(b[2 * i]) << 8 | UInt32(b[2 * i + 1])) }
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > bestLength { bestStart = i; bestLength = j - i }
            i = j == i ? i + 1 : j
        }
        var out = ""
        var k = 0
        while k < 8 {
            if k == bestStart {
                out += "::"
                k += bestLength
                continue
            }
            if k > 0 && k != bestStart + bestLength { out += ":" }
            out += USBIP.hex(groups[k], width: 1)
            k += 1
        }
        return out
    }
}
