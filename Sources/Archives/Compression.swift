/// The compression of a file, chosen by its name as users expect (`overlay.tar.gz`, `pi.img.xz`).
public enum Compression: String, CaseIterable, Sendable {
    case none, gzip, xz, zstd, bzip2

    /// The suffixes recognised, longest match wins.
    public static let suffixes: [(String, Compression)] = [
        (".gz", .gzip), (".tgz", .gzip), (".xz", .xz), (".txz", .xz), (".zst", .zstd), (".bz2", .bzip2),
    ]

    public static func forPath(_ path: String) -> Compression {
        suffixes.first { path.hasSuffix($0.0) }?.1 ?? .none
    }

    /// `path` without its compression suffix (`pi.img.xz` -> `pi.img`).
    public static func stripped(_ path: String) -> String {
        guard let (suffix, _) = suffixes.first(where: { path.hasSuffix($0.0) }) else { return path }
        let base = String(path.dropLast(suffix.count))
        return suffix.hasPrefix(".t") ? base + ".tar" : base
    }
}

public enum ArchiveError: Error, Equatable, CustomStringConvertible {
    case libarchive(String, String)

    public var description: String {
        switch self {
        case .libarchive(let path, let message): "\(path): \(message)"
        }
    }
}
