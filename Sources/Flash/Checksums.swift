import Digests

/// The `SHA256SUMS` found with an image (parsed by `SHA256Sums`, the codec build-image writes
/// with), and the checks flash makes against it.
public struct Checksums: Equatable, Sendable {
    /// Lower-case hex digest by file name.
    public var digests: [String: String]

    /// Parses the file; lines that are not digest lines (blank, comments) are ignored.
    public init(parsing bytes: [UInt8]) {
        digests = SHA256Sums(parsing: bytes).digests
    }

    /// The digest listed for `name` (matched on the last path component too).
    public func digest(for name: String) -> String? {
        digests[name] ?? digests.first { $0.key.split(separator: "/").last.map(String.init) == name }?.value
    }

    /// Throws when `name` is listed with a digest other than that of `bytes`; returns whether it was listed.
    @discardableResult
    public func check(_ name: String, bytes: [UInt8]) throws -> Bool {
        guard let expected = digest(for: name) else { return false }
        let actual = Hex.encode(SHA256.hash(data: bytes))
        guard actual == expected else { throw FlashError.fileChecksum(name, expected: expected, actual: actual) }
        return true
    }
}
