import Digests

/// SHA-256 of a stream with its length, as hex.
struct StreamDigest {
    private var hash = SHA256()
    private(set) var count: UInt64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hash.update(bufferPointer: bytes)
        count += UInt64(bytes.count)
    }

    func hex() -> String { Checksums.hex(hash.finalize()) }
}

/// A `SHA256SUMS` file in coreutils' format, one file a line:
///
/// ```
/// 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  pi.img.xz
/// <64 hex digits><space><space or '*' (binary)><file name>
/// ```
public struct Checksums: Equatable, Sendable {
    /// Lower-case hex digest by file name.
    public var digests: [String: String]

    /// Parses the file; lines that are not digest lines (blank, comments) are ignored.
    public init(parsing text: String) {
        var digests: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let chars = Array(line)
            guard chars.count > 66, chars[64] == " ", chars[65] == " " || chars[65] == "*" else { continue }
            let digest = String(chars[..<64]).lowercased()
            guard digest.allSatisfy(\.isHexDigit) else { continue }
            var name = String(chars[66...])
            if name.hasPrefix("./") { name.removeFirst(2) }
            digests[name] = digest
        }
        self.digests = digests
    }

    /// The digest listed for `name` (matched on the last path component too).
    public func digest(for name: String) -> String? {
        digests[name] ?? digests.first { $0.key.split(separator: "/").last.map(String.init) == name }?.value
    }

    /// Throws when `name` is listed with a digest other than that of `bytes`; returns whether it was listed.
    @discardableResult
    public func check(_ name: String, bytes: [UInt8]) throws -> Bool {
        guard let expected = digest(for: name) else { return false }
        let actual = Self.hex(SHA256.hash(data: bytes))
        guard actual == expected else { throw FlashError.fileChecksum(name, expected: expected, actual: actual) }
        return true
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}
