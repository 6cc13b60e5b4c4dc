import SystemIO
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

public enum ArchiveError: FileNamingError, Equatable {
    /// libarchive (or liblzma) failed on the file at the path: its message, and the system's
    /// errno when the failure was a system call's ("Write error" alone would not tell a full
    /// disk from a broken one).
    case libarchive(String, String, errno: Errno? = nil)
    /// A system call on the file failed.
    case system(String, Errno)

    /// The errno behind the failure, if a system call failed.
    public var errno: Errno? {
        switch self {
        case .libarchive(_, _, let errno): errno
        case .system(_, let errno): errno
        }
    }

    public var file: String {
        switch self {
        case .libarchive(let path, _, _), .system(let path, _): path
        }
    }

    /// What failed, without the path.
    public var reason: String {
        switch self {
        case .libarchive(_, let message, nil): message
        case .libarchive(_, let message, let errno?): message.contains(errno.description) ? message : "\(message): \(errno)"
        case .system(_, let errno): errno.description
        }
    }

    public var description: String {
        switch self {
        case .libarchive(let path, _, _), .system(let path, _): "\(path): \(reason)"
        }
    }
}
