/// Unsigned numbers written in ASCII digits, as binder.conf, CIDR prefixes and IPv6 groups
/// hold them: no sign, no blanks, no `0x`. Byte-level so that neither Foundation nor the
/// stdlib's Unicode tables are needed (this file is also compiled into the Embedded Swift
/// usbip-binder, whose `parseNumber` is built on it).
enum ASCIINumber {
    /// The value of `digits` in `radix` (10 or 16, hex in either case), nil when empty, longer
    /// than `maxDigits`, not all digits, or above `UInt32.max`.
    static func parse(_ digits: some Collection<UInt8>, radix: UInt32, maxDigits: Int = .max) -> UInt32? {
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
}
