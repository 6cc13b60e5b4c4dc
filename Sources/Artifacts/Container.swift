/// What holds an image, told by the file's first bytes (never by its name, so suffix-less
/// downloads such as `raspios_lite_arm64_latest` work): the one sniffer that build-image,
/// inspect and flash use.
public enum Container: String, Equatable, Sendable {
    case raw, xz, gzip, zstd, bzip2, zip

    /// Bytes to peek at to tell every container.
    public static let headerLength = 8

    private static let magics: [(Container, [UInt8])] = [
        (.zip, [0x50, 0x4b, 0x03, 0x04]),
        (.xz, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
        (.gzip, [0x1f, 0x8b]),
        (.zstd, [0x28, 0xb5, 0x2f, 0xfd]),
        (.bzip2, [0x42, 0x5a, 0x68]),
    ]

    /// The container whose magic `header` starts with; `.raw` for anything else.
    public init(header: [UInt8]) {
        self = Self.magics.first { header.starts(with: $0.1) }?.0 ?? .raw
    }

    /// A compressed stream (xz, gzip, zstd, bzip2): decoded by a filter, no members.
    public var isCompressed: Bool { self != .raw && self != .zip }
}
