import SystemIO
/// Why an artifact (a zip, a download) could not be used. Every case names the file or URL
/// once: callers print `description` as it is.
public enum ArtifactError: FileNamingError, Equatable {
    /// The zip holds no image member (`.img`, `.img.xz`, ...).
    case noImage(String)
    /// The zip holds more than one image member.
    case severalImages(String, [String])
    /// A zip inside the zip, or a zip where only a stream can be read.
    case nestedZip(String)
    /// A file (or the zip) could not be read: the reason.
    case unreadable(String, String)

    public var description: String {
        switch self {
        case let .noImage(path):
            "\(path): the zip holds no image (a .img, .img.xz, .img.gz, .img.zst or .img.bz2 member)"
        case let .severalImages(path, names):
            "\(path): the zip holds several images (\(names.joined(separator: ", "))); unpack the one you want"
        case let .nestedZip(name): "\(name): a zip inside a zip is not read; unpack it first"
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        }
    }
}

extension ArtifactError {
    public var file: String {
        switch self {
        case .noImage(let path), .severalImages(let path, _), .nestedZip(let path), .unreadable(let path, _): path
        }
    }
}
