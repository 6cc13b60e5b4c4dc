import Archives
import Digests
import Foundation

/// A whole file downloaded as it is read (build-image's `--base URL`, `inspect URL`), through
/// HTTPByteSource (Range requests, redirects followed, `Accept-Encoding: identity`, stall
/// timeout), with the sha256 of every byte. A transfer cut short (connection lost, stalled, a
/// short body) is resumed from the byte where it stopped with a Range request, up to `resumes`
/// times, then fails naming the URL and the bytes received. flash reads its URLs through one
/// too (`Location.open`), without the hash, which flash computes itself.
public final class Download: ByteSource {
    public let url: URL
    public var name: String { url.absoluteString }
    /// Bytes received so far, and the file's length when the server told it.
    public private(set) var received: Int64 = 0
    public private(set) var total: Int64?
    /// Times the transfer was resumed after a cut.
    public private(set) var resumed = 0
    private let resumes: Int
    private let timeout: Int
    private let credentials: Credentials
    private var current: HTTPByteSource
    private var hash: SHA256?
    /// The Content-Encoding the server applied although identity was asked for (see
    /// HTTPByteSource); such a reply is read in one request and cannot be resumed.
    public var decodedEncoding: String? { current.decodedEncoding }

    /// Starts the download (waits for the first reply's headers). Without `hashing`, `finish()`
    /// returns nil.
    public init(url: URL, timeout: Int = HTTPByteSource.defaultTimeout, resumes: Int = 3,
                credentials: Credentials = Credentials(), hashing: Bool = true) throws {
        self.url = url
        hash = hashing ? SHA256() : nil
        self.timeout = timeout
        self.resumes = resumes
        self.credentials = credentials
        current = try HTTPByteSource(url: url, timeout: timeout, credentials: credentials)
        total = current.expectedLength
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            do {
                let count = try current.read(into: buffer)
                if count == 0, let total, received < total {
                    throw DownloadError.transfer(name, "the body ended after \(received) of \(total) bytes")
                }
                hash?.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                received += Int64(count)
                return count
            } catch let error as DownloadError where Self.isCut(error) {
                try resume(after: error)
            }
        }
    }

    /// Reads what is left (bytes a decoder did not need) and returns the sha256 of the whole
    /// file, in hex (nil when made without hashing).
    public func finish() throws -> String? {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while try buffer.withUnsafeMutableBytes({ try read(into: $0) }) > 0 {}
        return hash.map { Hex.encode($0.finalize()) }
    }

    /// A new transfer from byte `received`, when the server takes ranges and resumes are left.
    private func resume(after error: DownloadError) throws {
        guard current.ranged, let total else { throw error }
        guard resumed < resumes else {
            throw DownloadError.gaveUp(name, attempts: resumed + 1, received: received, total: total, last: "\(error)")
        }
        resumed += 1
        current = try HTTPByteSource(url: url, from: received, timeout: timeout, credentials: credentials)
        guard current.expectedLength == total else {
            throw DownloadError.transfer(name, "the file changed while it was downloaded (\(total) bytes, then \(current.expectedLength.map { "\($0)" } ?? "an unknown number of"))")
        }
    }

    /// A failure that a new transfer from where this one stopped may get past.
    static func isCut(_ error: DownloadError) -> Bool {
        switch error {
        case .transfer, .timedOut: true
        default: false
        }
    }
}
