/// Byte-level text helpers for binder.conf, CIDR prefixes and IPv6 groups. Byte-level and on
/// one concrete type (`ArraySlice<UInt8>`) on purpose: this file is also compiled into the
/// Embedded Swift usbip-binder (whose `parseNumber` is built on it), where neither Foundation
/// nor the stdlib's Unicode tables are wanted, and where each generic specialization of a
/// splitter or parser is code in a binary that should stay small.
enum ASCIIBytes {
    /// The value of unsigned `digits` in `radix` (10 or 16, hex in either case): no sign, no
    /// blanks, no `0x`. Nil when empty, longer than `maxDigits`, not all digits, or above
    /// `UInt32.max`.
    static func number(_ digits: ArraySlice<UInt8>, radix: UInt32, maxDigits: Int = .max) -> UInt32? {
        guard !digits.isEmpty, digits.count <= maxDigits else { return nil }
        var value: UInt32 = 0
        for b in digits {
            let d: UInt32
            switch b {
            case 0x30...0x39: d = UInt32(b - 0x30)
            case 0x61...0x66: d = UInt32(b - 0x61 + 10)
            case 0x41...0x46: d = UInt32(b - 0x41 + 10)
            default: return nil
            }
            guard d < radix else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (s, o2) = m.addingReportingOverflow(d)
            guard !o1 && !o2 else { return nil }
            value = s
        }
        return value
    }

    /// The pieces between `separator` bytes, empty ones included (`a::b` by `:` is 3 pieces,
    /// the empty text is one).
    static func pieces(_ bytes: ArraySlice<UInt8>, _ separator: UInt8) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        for i in bytes.indices where bytes[i] == separator {
            out.append(bytes[start..<i])
            start = i + 1
        }
        out.append(bytes[start...])
        return out
    }

    /// `text`'s UTF-8 bytes as a slice.
    static func bytes(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }
}
