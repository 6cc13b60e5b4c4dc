/// A `SHA256SUMS` file in GNU coreutils' format, the one codec build-image writes and flash
/// reads, so that `sha256sum -c` agrees with both:
///
/// ```
/// 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  pi.img.xz
/// <64 hex digits><space><space, or '*' for binary mode><file name>\n
/// \<64 hex digits>  name\nwith\\escapes          a name holding '\', LF or CR
/// ```
///
/// A name holding a backslash, a line feed or a carriage return is written escaped (`\\`,
/// `\n`, `\r`) on a line that starts with a backslash, as `sha256sum` writes it and `-c` reads it.
public struct SHA256Sums: Equatable, Sendable {
    /// Lower-case hex digest by file name, as listed (a `./` prefix removed).
    public var digests: [String: String]

    public init(digests: [String: String] = [:]) { self.digests = digests }

    /// Parses the file; lines that are not digest lines (blank, comments, bad escapes) are
    /// ignored. Names are decoded as UTF-8 (bytes that are not become U+FFFD).
    public init(parsing bytes: [UInt8]) {
        var digests: [String: String] = [:]
        for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var line = Array(rawLine)
            let escaped = line.first == UInt8(ascii: "\\")
            if escaped { line.removeFirst() }
            guard line.count > 66, line[64] == 0x20, line[65] == 0x20 || line[65] == UInt8(ascii: "*") else { continue }
            let digest = String(decoding: line[..<64], as: UTF8.self).lowercased()
            guard digest.allSatisfy(\.isHexDigit) else { continue }
            var name = Array(line[66...])
            if !escaped, name.last == 0x0D { name.removeLast() }
            if escaped {
                guard let unescaped = Self.unescape(name) else { continue }
                name = unescaped
            }
            var text = String(decoding: name, as: UTF8.self)
            if text.hasPrefix("./") { text.removeFirst(2) }
            digests[text] = digest
        }
        self.digests = digests
    }

    /// The file's bytes: one line per name, sorted by name.
    public func encoded() -> [UInt8] {
        digests.keys.sorted().flatMap { Self.line(name: $0, digest: digests[$0]!) }
    }

    /// One line (with its line feed), escaped as GNU sha256sum escapes it.
    public static func line(name: String, digest: String) -> [UInt8] {
        let bytes = Array(name.utf8)
        let needsEscape = bytes.contains { $0 == UInt8(ascii: "\\") || $0 == 0x0A || $0 == 0x0D }
        guard needsEscape else { return Array("\(digest)  \(name)\n".utf8) }
        var out: [UInt8] = [UInt8(ascii: "\\")] + Array("\(digest)  ".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            default: out.append(byte)
            }
        }
        return out + [0x0A]
    }

    private static func unescape(_ name: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while index < name.count {
            guard name[index] == UInt8(ascii: "\\") else {
                out.append(name[index])
                index += 1
                continue
            }
            guard index + 1 < name.count else { return nil }
            switch name[index + 1] {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            default: return nil
            }
            index += 2
        }
        return out
    }
}
