import SystemIO
/// Why a download failed. Every case names the URL; none carries a credential.
public enum DownloadError: FileNamingError, Equatable {
    /// An HTTP request answered with a status other than 200 or 206.
    case httpStatus(String, Int)
    /// 401, 403 or 404: the URL wants a credential (or another one); `advice` says which to
    /// set, and never holds a credential's value.
    case denied(String, Int, advice: String)
    /// The transfer itself failed (connection refused, reset, ...).
    case transfer(String, String)
    /// Nothing arrived for `seconds`, after `received` bytes of `total` (nil: not told).
    case timedOut(String, seconds: Int, received: Int64, total: Int64?)
    /// The server encoded the reply (Content-Encoding) in a way that is not decoded here.
    case contentEncoding(String, String)
    /// The download was cut or stalled more often than it may be resumed.
    case gaveUp(String, attempts: Int, received: Int64, total: Int64?, last: String)
    /// The download's sha256 is not the one it was pinned to (`--base-sha256`).
    case checksum(String, expected: String, actual: String)

    public var description: String {
        switch self {
        case let .httpStatus(url, status): "\(url): HTTP status \(status)"
        case let .denied(url, status, advice):
            "\(url): HTTP status \(status) (\(status == 401 ? "authentication required" : status == 403 ? "forbidden" : "not found, or not visible without a credential")): \(advice)"
        case let .transfer(url, reason): "\(url): download failed: \(reason)"
        case let .timedOut(url, seconds, received, total):
            "\(url): download timed out: "
                + (received == 0 && total == nil ? "no reply for \(seconds) s"
                    : "nothing received for \(seconds) s, after \(received) of \(total.map { "\($0)" } ?? "an unknown number of") bytes")
                + " (a slow server may need a longer --timeout)"
        case let .contentEncoding(url, encoding):
            "\(url): the server sent it with Content-Encoding: \(encoding) although identity was asked for; "
                + "only gzip and deflate are decoded: fetch the file another way or fix the server"
        case let .gaveUp(url, attempts, received, total, last):
            "\(url): download failed: cut or stalled \(attempts) times, resumed from where it stopped each time; gave up after \(received) of \(total.map { "\($0)" } ?? "an unknown number of") bytes (last: \(last))"
        case let .checksum(url, expected, actual):
            "\(url): the download's sha256 is \(actual), not the \(expected) it was pinned to: nothing was written"
        }
    }
}

extension DownloadError {
    /// The URL every message starts with.
    public var file: String {
        switch self {
        case .httpStatus(let url, _), .denied(let url, _, _), .transfer(let url, _), .timedOut(let url, _, _, _),
             .contentEncoding(let url, _), .gaveUp(let url, _, _, _, _), .checksum(let url, _, _): url
        }
    }
}
