/// Byte-level (UTF-8) text helpers. Everything the binder reads (sysfs
/// attributes, paths, busids, binder.conf) is ASCII; working on bytes keeps
/// the stdlib's grapheme-breaking and normalisation code out of the binary.
extension String {
    init(ascii bytes: some Collection<UInt8>) { self = String(decoding: bytes, as: UTF8.self) }

    func startsWith(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }

    func endsWith(_ suffix: String) -> Bool {
        utf8.count >= suffix.utf8.count && utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    func has(_ byte: UInt8) -> Bool { utf8.contains(byte) }

    /// The text after the first `n` bytes.
    func droppingBytes(_ n: Int) -> String { String(ascii: utf8.dropFirst(n)) }

    /// Pieces between `separator` bytes; with `keepEmpty` false, empty pieces are dropped.
    func fields(_ separator: UInt8, keepEmpty: Bool = false) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        for b in utf8 {
            if b == separator {
                if keepEmpty || !current.isEmpty { out.append(String(ascii: current)) }
                current = []
            } else {
                current.append(b)
            }
        }
        if keepEmpty || !current.isEmpty { out.append(String(ascii: current)) }
        return out
    }

    /// Byte-wise order (what `ls` does in the C locale).
    func bytesPrecede(_ other: String) -> Bool { utf8.lexicographicallyPrecedes(other.utf8) }
}
