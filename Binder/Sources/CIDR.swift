/// An address block from `allow` lines. IPv4 blocks are kept as IPv4-mapped
/// IPv6 (`::ffff:a.b.c.d`, prefix + 96) so one 16-byte compare serves both
/// families, and an IPv4 peer reaching the dual-stack socket matches them.
struct CIDR: Equatable {
    /// Network address, host bits cleared.
    let address: [UInt8]
    /// Prefix length over the 16-byte form.
    let prefix: Int
    /// The text it was written as, normalised (`10.1.2.3/32`).
    let text: String

    static let loopback: [CIDR] = [CIDR(parsing: "127.0.0.0/8")!, CIDR(parsing: "::1/128")!]

    /// Parses `a.b.c.d[/n]` or an IPv6 address (with `::`) `[/n]`; without `/n`
    /// the block is one host. Host bits beyond the prefix are cleared.
    init?(parsing s: String) {
        let parts = s.fields(0x2f, keepEmpty: true)
        guard parts.count <= 2 else { return nil }
        let addrText = parts[0]
        let prefixText: String? = parts.count == 2 ? parts[1] : nil
        let bytes: [UInt8]
        let bits: Int
        let isV4: Bool
        if let v4 = parseIPv4(addrText) {
            bytes = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + v4
            bits = 32
            isV4 = true
        } else if let v6 = parseIPv6(addrText) {
            bytes = v6
            bits = 128
            isV4 = false
        } else {
            return nil
        }
        var plen = bits
        if let p = prefixText {
            guard !p.isEmpty, p.utf8.count <= 3, let n = parseNumber(p, radix: 10), n <= bits else { return nil }
            plen = Int(n)
        }
        let full = isV4 ? plen + 96 : plen
        address = masked(bytes, full)
        prefix = full
        text = (isV4 ? formatIPv4(Array(address[12...])) : formatIPv6(address)) + "/\(plen)"
    }

    func contains(_ peer: [UInt8]) -> Bool {
        peer.count == 16 && masked(peer, prefix) == address
    }
}

private func masked(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
    var out = bytes
    for i in 0..<16 {
        let keep = max(0, min(8, prefix - i * 8))
        out[i] &= keep == 8 ? 0xff : UInt8(truncatingIfNeeded: 0xff00 >> keep)
    }
    return out
}

func parseIPv4(_ s: String) -> [UInt8]? {
    let parts = s.fields(0x2e, keepEmpty: true)
    guard parts.count == 4 else { return nil }
    var out: [UInt8] = []
    for p in parts {
        guard !p.isEmpty, p.utf8.count <= 3, let n = parseNumber(p, radix: 10), n <= 255 else { return nil }
        out.append(UInt8(n))
    }
    return out
}

/// RFC 4291 text form: eight groups of up to four hex digits, one `::`
/// standing for a run of zero groups, optionally a dotted IPv4 tail.
func parseIPv6(_ s: String) -> [UInt8]? {
    let b = Array(s.utf8)
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
    let left = gap < 0 ? b : Array(b[..<gap])
    let right = gap < 0 ? [] : Array(b[(gap + 2)...])
    guard let head = parseGroups(left, last: gap < 0), let tail = parseGroups(right, last: true)
    else { return nil }
    let total = head.count + tail.count
    guard gap >= 0 ? total < 8 : total == 8 else { return nil }
    var out: [UInt8] = []
    for g in head + [UInt16](repeating: 0, count: 8 - total) + tail {
        out.append(UInt8(g >> 8))
        out.append(UInt8(g & 0xff))
    }
    return out
}

/// Colon-separated hex groups; when `last`, the final group may be dotted IPv4.
private func parseGroups(_ bytes: [UInt8], last: Bool) -> [UInt16]? {
    if bytes.isEmpty { return [] }
    let pieces = bytes.split(separator: 0x3a, omittingEmptySubsequences: false)
    var groups: [UInt16] = []
    for (n, piece) in pieces.enumerated() {
        let text = String(decoding: piece, as: UTF8.self)
        if last && n == pieces.count - 1 && piece.contains(0x2e) {
            guard let v4 = parseIPv4(text) else { return nil }
            groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
            groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
            continue
        }
        guard !piece.isEmpty, piece.count <= 4, let v = parseNumber(text, radix: 16) else { return nil }
        groups.append(UInt16(v))
    }
    return groups
}

func formatIPv4(_ b: [UInt8]) -> String { "\(b[0]).\(b[1]).\(b[2]).\(b[3])" }

/// Text form of a 16-byte address: `a.b.c.d` for IPv4-mapped, else RFC 5952
/// (longest run of two or more zero groups as `::`).
func formatIPv6(_ b: [UInt8]) -> String {
    if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
        return formatIPv4(Array(b[12...]))
    }
    var groups: [UInt32] = []
    for i in 0..<8 { groups.append(UInt32(b[2 * i]) << 8 | UInt32(b[2 * i + 1])) }
    var bestStart = -1
    var bestLen = 1
    var i = 0
    while i < 8 {
        if groups[i] == 0 {
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > bestLen { bestStart = i; bestLen = j - i }
            i = j
        } else {
            i += 1
        }
    }
    var out = ""
    var k = 0
    while k < 8 {
        if k == bestStart {
            out += "::"
            k += bestLen
            continue
        }
        if !out.isEmpty && !out.endsWith(":") { out += ":" }
        out += USBIP.hex(groups[k], width: 1)
        k += 1
    }
    return out
}
