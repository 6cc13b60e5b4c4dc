/// VFAT long file names and the short names that go with them.
///
/// A long name is stored as 13 UTF-16 units per 32-byte entry, placed before its short entry in
/// reverse order (the entry with ordinal N | 0x40 first, ordinal 1 last, then the short entry):
///
/// ```
/// 0   1 ordinal (1...20; 0x40 marks the last, stored first)
/// 1  10 units 1-5
/// 11  1 attributes 0x0F
/// 12  1 type 0
/// 13  1 checksum of the short name
/// 14 12 units 6-11
/// 26  2 first cluster 0
/// 28  4 units 12-13
/// ```
/// After the name comes one 0x0000 unit if room remains, then 0xFFFF padding.
enum FATLongName {
    static let attributes: UInt8 = 0x0F
    static let unitsPerEntry = 13
    /// Byte offsets of the 13 units inside an entry.
    static let unitOffsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]

    /// Checksum of an 11-byte short name: rotate right one bit, add the next byte.
    static func checksum(_ shortName: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for byte in shortName { sum = (sum & 1 == 1 ? 0x80 : 0) &+ (sum >> 1) &+ byte }
        return sum
    }

    /// The entries holding `name`, in on-disk order (last part first).
    static func encode(_ name: String, checksum: UInt8) -> [[UInt8]] {
        let units = Array(name.utf16)
        let count = (units.count + unitsPerEntry - 1) / unitsPerEntry
        var entries: [[UInt8]] = []
        for ordinal in stride(from: count, through: 1, by: -1) {
            var entry = [UInt8](repeating: 0, count: 32)
            entry[0] = UInt8(ordinal) | (ordinal == count ? 0x40 : 0)
            entry[11] = attributes
            entry[13] = checksum
            for (k, offset) in unitOffsets.enumerated() {
                let i = (ordinal - 1) * unitsPerEntry + k
                let unit: UInt16 = i < units.count ? units[i] : (i == units.count ? 0x0000 : 0xFFFF)
                BytesLE.put16(&entry, offset, unit)
            }
            entries.append(entry)
        }
        return entries
    }

    /// The 13 units of one entry, cut at the first 0x0000.
    static func units(of bytes: [UInt8], at base: Int) -> [UInt16] {
        var units: [UInt16] = []
        for offset in unitOffsets {
            let unit = BytesLE.u16(bytes, base + offset)
            if unit == 0 { break }
            units.append(unit)
        }
        return units
    }

    /// Why `name` cannot be a FAT long name, or nil when it can.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "empty" }
        if name == "." || name == ".." { return "reserved" }
        if name.utf16.count > 255 { return "longer than 255 UTF-16 units" }
        if let bad = name.unicodeScalars.first(where: { $0.value < 0x20 || "\"*/:<>?\\|".unicodeScalars.contains($0) }) {
            return "contains \(bad.value < 0x20 ? "a control character" : "'\(bad)'")"
        }
        if name.hasSuffix(".") || name.hasSuffix(" ") { return "ends in a dot or a space" }
        return nil
    }
}

/// How a name is stored: its 11-byte short name, case flags, and whether a long name is needed.
struct FATShortNamePlan: Equatable {
    var name: [UInt8]
    var caseFlags: UInt8
    var needsLongName: Bool
}

/// Short names as Linux vfat makes them (shortname=winnt): a lossless 8.3 name with one case
/// per part gets case flags and no long name; a lossless mixed-case name is upper-cased and gets a
/// long name; anything else becomes BASE~N.EXT (N = 1...9), then XXHHHH~1.EXT with a hash of the
/// name (where Linux uses the clock) so the result is deterministic.
enum FATShortName {
    /// Characters Linux replaces with '_' in short names.
    private static let replaced = Set("[];,+=".utf8)

    static func plan(for name: String, isTaken: ([UInt8]) -> Bool) -> FATShortNamePlan {
        let scalars = Array(name.unicodeScalars)
        var dot = scalars.lastIndex(of: ".")
        if let d = dot, scalars[..<d].allSatisfy({ $0 == "." || $0 == " " }) { dot = nil }
        let baseScalars = dot.map { Array(scalars[..<$0]) } ?? scalars
        let extScalars = dot.map { Array(scalars[($0 + 1)...]) } ?? []

        var lossy = false
        func convert(_ part: [Unicode.Scalar], limit: Int) -> (bytes: [UInt8], lower: Bool, upper: Bool) {
            var bytes: [UInt8] = [], lower = false, upper = false
            for scalar in part {
                if scalar == "." || scalar == " " {
                    lossy = true
                    continue
                }
                var byte = UInt8(ascii: "_")
                if scalar.isASCII, !replaced.contains(UInt8(scalar.value)) {
                    byte = UInt8(scalar.value)
                    if (0x61...0x7A).contains(byte) { lower = true; byte -= 0x20 }
                    else if (0x41...0x5A).contains(byte) { upper = true }
                } else {
                    lossy = true
                }
                if bytes.count == limit { lossy = true; break }
                bytes.append(byte)
            }
            return (bytes, lower, upper)
        }
        var base = convert(baseScalars, limit: 8)
        let ext = convert(extScalars, limit: 3)
        if base.bytes.isEmpty {
            base.bytes = [UInt8(ascii: "_")]
            lossy = true
        }
        let extPadded = ext.bytes + [UInt8](repeating: 0x20, count: 3 - ext.bytes.count)
        func compose(_ b: [UInt8]) -> [UInt8] { b + [UInt8](repeating: 0x20, count: 8 - b.count) + extPadded }

        if !lossy {
            let exact = compose(base.bytes)
            if !isTaken(exact) {
                if !(base.lower && base.upper) && !(ext.lower && ext.upper) {
                    let flags = (base.lower ? FATShortEntry.lowerBase : 0) | (ext.lower ? FATShortEntry.lowerExtension : 0)
                    return FATShortNamePlan(name: exact, caseFlags: flags, needsLongName: false)
                }
                return FATShortNamePlan(name: exact, caseFlags: 0, needsLongName: true)
            }
        }
        let stem = Array(base.bytes.prefix(6))
        for n in 1...9 {
            let candidate = compose(stem + Array("~\(n)".utf8))
            if !isTaken(candidate) { return FATShortNamePlan(name: candidate, caseFlags: 0, needsLongName: true) }
        }
        var hash: UInt16 = 0
        for unit in name.utf16 { hash = hash &* 31 &+ unit }
        let short = Array(base.bytes.prefix(2))
        while true {
            let hex = String(hash, radix: 16, uppercase: true)
            let digits = Array((String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            let candidate = compose(short + digits + Array("~1".utf8))
            if !isTaken(candidate) { return FATShortNamePlan(name: candidate, caseFlags: 0, needsLongName: true) }
            hash &-= 11
        }
    }
}
