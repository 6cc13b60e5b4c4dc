import Archives
import Foundation

/// Where a file of the flash comes from: a local path or an http(s) URL. Companion files
/// (the `.bmap`, `SHA256SUMS`) are looked up beside it, in the same directory or URL path.
public enum Location: Equatable, Sendable, CustomStringConvertible {
    case file(String)
    case url(URL)

    /// An `http://` or `https://` argument is a URL, anything else a path.
    public init(_ argument: String) {
        let lower = argument.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://"), let url = URL(string: argument) {
            self = .url(url)
        } else {
            self = .file(argument)
        }
    }

    public var description: String {
        switch self {
        case .file(let path): path
        case .url(let url): url.absoluteString
        }
    }

    /// The last path component (`pi.img.xz`), as SHA256SUMS names files.
    public var basename: String {
        switch self {
        case .file(let path): URL(fileURLWithPath: path).lastPathComponent
        case .url(let url): url.lastPathComponent
        }
    }

    /// The file called `name` in the same directory.
    public func sibling(_ name: String) -> Location {
        switch self {
        case .file(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            return .file(path.contains("/") ? directory.appendingPathComponent(name).path : name)
        case .url(let url):
            return .url(url.deletingLastPathComponent().appendingPathComponent(name))
        }
    }

    /// Opens the file for streaming; a download fails after `timeout` seconds without a byte,
    /// and a cut one resumes where it stopped (`Download`, without its hash).
    /// `credentials` go to the URL's origin only (see `Credentials`).
    public func open(timeout: Int = HTTPByteSource.defaultTimeout, credentials: Credentials = Credentials()) throws -> ByteSource {
        switch self {
        case .file(let path):
            guard access(path, R_OK) == 0 else { throw ArtifactError.unreadable(path, String(cString: strerror(errno))) }
            return try FileByteSource(path: path)
        case .url(let url):
            return try Download(url: url, timeout: timeout, credentials: credentials, hashing: false)
        }
    }

    /// The whole content of a small file, or nil when there is none.
    public func fetch(timeout: Int = HTTPByteSource.defaultTimeout, credentials: Credentials = Credentials()) throws -> [UInt8]? {
        switch self {
        case .file(let path):
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else { throw ArtifactError.unreadable(path, "cannot read") }
            return [UInt8](data)
        case .url(let url):
            return try HTTPByteSource.fetch(url, timeout: timeout, credentials: credentials)
        }
    }
}
