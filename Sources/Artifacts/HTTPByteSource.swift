import Archives
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A file downloaded over http(s), read as it arrives, with bounded memory.
///
/// FoundationNetworking hands every received block to the delegate queue without waiting, and
/// cannot pause a transfer (suspend/resume restarts it), so the file is fetched in ranges:
///
/// ```
/// GET Range: bytes=0-8388607         ──► 206, Content-Range: bytes 0-8388607/TOTAL, ETag
/// (wait until the reader has drained the pipe below low water)
/// GET Range: bytes=8388608-16777215, If-Range: ETag ──► 206 ...      until TOTAL
/// ```
///
/// A server that ignores Range answers 200 with the whole body, which is then streamed as one
/// transfer (the pipe may then hold what the reader has not consumed yet).
///
/// Every request asks for `Accept-Encoding: identity`, so Content-Length and Content-Range
/// count the file's own bytes. URLSession (libcurl) still decodes a gzip or deflate reply on
/// its own, and cannot be told not to; a server that encodes anyway (Apache sends `.gz` files
/// with `Content-Encoding: gzip`) is therefore read in one request without Range, since ranges
/// of an encoded body cannot be decoded apart, and its decoded bytes are not counted against
/// the encoded length. Any other Content-Encoding is refused by name.
///
/// A transfer that receives nothing for `timeout` seconds fails with `DownloadError.timedOut`
/// (URLSession's request timeout restarts with every block received); other URLSession
/// failures are put in words (`describe`).
public final class HTTPByteSource: ByteSource, @unchecked Sendable {
    /// Seconds without a byte received before a download is abandoned.
    public static let defaultTimeout = 60
    /// The Content-Encodings URLSession decodes by itself.
    static let decodedEncodings: Set<String> = ["gzip", "x-gzip", "deflate"]

    public var name: String { url.absoluteString }
    public let url: URL
    /// The file's length when the server told it (Content-Range total or Content-Length); nil
    /// for an encoded reply, whose decoded length nobody told.
    public private(set) var expectedLength: Int64?
    /// Whether the server honours Range requests, so memory is bounded.
    public private(set) var ranged = false
    /// The Content-Encoding (gzip or deflate) the server applied although `identity` was asked
    /// for: the bytes read are then the decoded body, fetched in one request.
    public private(set) var decodedEncoding: String?
    /// Seconds without a byte received before the download fails.
    public let timeout: Int

    private let chunkSize: Int64
    private let pipe: BytePipe
    private let session: URLSession
    private let relay: Relay
    private var producer: Thread?

    /// Starts the download and waits for the first response's headers; throws on a status
    /// other than 200 or 206 and on a Content-Encoding that is not decoded. `timeout` is in
    /// whole seconds (URLSession's timer counts whole seconds). `start` > 0 resumes a cut
    /// download at that byte: the server must answer with a range (206) starting there.
    ///
    /// `credentials` authenticate the requests to `url`'s origin; a redirect to another
    /// origin goes without them (and without the user's `--header` values).
    public init(url: URL, from start: Int64 = 0, chunkSize: Int = 8 << 20,
                timeout: Int = HTTPByteSource.defaultTimeout, credentials: Credentials = Credentials()) throws {
        self.url = url
        self.chunkSize = Int64(chunkSize)
        self.timeout = max(1, timeout)
        pipe = BytePipe(name: url.absoluteString, highWater: 2 * chunkSize, lowWater: chunkSize)
        relay = Relay(pipe: pipe, url: url, timeout: self.timeout, headers: credentials.headers(for: url))
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = TimeInterval(self.timeout)
        session = URLSession(configuration: configuration, delegate: relay, delegateQueue: queue)

        var first = relay.start(session, range: start..<(start + self.chunkSize), ifRange: nil)
        var response = first.waitForHeaders()
        if start > 0, response?.statusCode != 206 || first.encoding != nil {
            session.invalidateAndCancel()
            throw DownloadError.transfer(url.absoluteString, "cannot resume at byte \(start): the server answered the range request with status \(response?.statusCode ?? 0)")
        }
        if let encoding = first.encoding, response?.statusCode == 206, Self.decodedEncodings.contains(encoding) {
            // The relay refused the encoded range; the whole body decodes as one stream.
            first.done.wait()
            first = relay.start(session, range: nil, ifRange: nil)
            response = first.waitForHeaders()
        }
        if let encoding = first.encoding, let status = response?.statusCode, status == 200 || status == 206 {
            guard status == 200, Self.decodedEncodings.contains(encoding) else {
                session.invalidateAndCancel()
                throw DownloadError.contentEncoding(url.absoluteString, encoding)
            }
            decodedEncoding = encoding
        }
        switch response?.statusCode {
        case 206:
            guard let range = response.flatMap(Self.contentRange), range.start == start else {
                session.invalidateAndCancel()
                throw DownloadError.transfer(url.absoluteString, "the server answered a range request without a usable Content-Range")
            }
            ranged = true
            expectedLength = range.total
            let etag = response?.value(forHTTPHeaderField: "ETag")
            let producer = Thread { [first, relay, pipe, session, chunkSize = self.chunkSize] in
                Self.fetchRest(first: first, from: start, total: range.total, chunk: chunkSize, etag: etag,
                               relay: relay, pipe: pipe, session: session)
            }
            self.producer = producer
            producer.start()
        case 200:
            expectedLength = first.bodyLength
            Thread { [first, pipe, url] in
                if let error = first.waitForCompletion(expected: nil, url: url) { pipe.finish(error: error) } else { pipe.finish() }
            }.start()
        case 416:
            expectedLength = 0
            session.invalidateAndCancel()
            pipe.finish()
        default:
            session.invalidateAndCancel()
            if let status = response?.statusCode {
                if [401, 403, 404].contains(status) {
                    throw DownloadError.denied(url.absoluteString, status,
                                               advice: Self.advice(url: url, final: response?.url, credentials: credentials))
                }
                throw DownloadError.httpStatus(url.absoluteString, status)
            }
            throw first.failure ?? DownloadError.transfer(url.absoluteString, "no response")
        }
    }

    deinit {
        pipe.cancel()
        session.invalidateAndCancel()
    }

    /// Bytes received and not yet read: under two chunks while the server honours Range.
    public var bufferedBytes: Int { pipe.queuedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try pipe.read(into: buffer)
    }

    /// Downloads a small file (a bmap, SHA256SUMS) whole; nil when the server answers 404.
    public static func fetch(_ url: URL, limit: Int = 64 << 20, timeout: Int = defaultTimeout,
                             credentials: Credentials = Credentials()) throws -> [UInt8]? {
        let source: HTTPByteSource
        do {
            source = try HTTPByteSource(url: url, timeout: timeout, credentials: credentials)
        } catch DownloadError.httpStatus(_, 404), DownloadError.denied(_, 404, _) {
            return nil
        }
        var bytes: [UInt8] = []
        try source.forEachChunk(bufferSize: 1 << 16) { chunk, _ in
            bytes += chunk
            guard bytes.count <= limit else { throw DownloadError.transfer(url.absoluteString, "larger than \(limit) bytes") }
        }
        return bytes
    }

    /// What to set after a 401, 403 or 404 of `url` (answered by `final` after redirects):
    /// which credential was sent, or which one to set. Names no value, and of a redirect target
    /// only its origin (its query may be a signature).
    static func advice(url: URL, final: URL?, credentials: Credentials) -> String {
        let host = url.host ?? url.absoluteString
        if let final, let from = Origin(url), let to = Origin(final), from != to {
            return "the server it redirected to (\(to)) refused the request; credentials are never sent to another origin than the URL's own"
        }
        let sources = credentials.sources(for: url)
        let github = credentials.isGitHubAPI(url)
        let options = "--header 'Authorization: Bearer …', a ~/.netrc entry (machine \(host) login … password …)"
            + (github ? " or GITHUB_TOKEN (GH_TOKEN)" : "; GITHUB_TOKEN is sent to the GitHub API only")
        if sources.isEmpty {
            return "no credential was sent; if it needs one, set \(options)"
        }
        return "the credential sent (\(sources.joined(separator: ", "))) was not accepted; check it, or set \(options)"
    }

    /// The producer thread: after the first range, one request per chunk, each issued once
    /// the reader has drained the pipe below low water.
    private static func fetchRest(first: Request, from offset: Int64, total: Int64, chunk: Int64, etag: String?,
                                  relay: Relay, pipe: BytePipe, session: URLSession) {
        defer { session.finishTasksAndInvalidate() }
        var request = first
        var start = offset
        do {
            while true {
                let length = min(chunk, total - start)
                if let error = request.waitForCompletion(expected: length, url: relay.url) { throw error }
                start += length
                guard start < total else { break }
                try pipe.waitForRoom()
                request = relay.start(session, range: start..<min(start + chunk, total), ifRange: etag)
                let response = request.waitForHeaders()
                if let encoding = request.encoding {
                    throw DownloadError.contentEncoding(relay.url.absoluteString, encoding)
                }
                guard response?.statusCode == 206, let range = response.flatMap(contentRange),
                      range.start == start, range.total == total else {
                    throw request.failure ?? DownloadError.transfer(relay.url.absoluteString,
                        "the file changed during the download (range request at byte \(start) answered \(response?.statusCode ?? 0))")
                }
            }
            pipe.finish()
        } catch {
            pipe.finish(error: error)
        }
    }

    /// A URLSession failure in words: what failed, and after how many bytes of how many when
    /// that matters. URLSession (libcurl underneath) reports NSURLErrorDomain codes.
    static func describe(_ error: Error, url: URL, timeout: Int, received: Int64, total: Int64?) -> DownloadError {
        let name = url.absoluteString
        let error = error as NSError
        let host = url.host ?? name
        let address = url.port.map { "\(host):\($0)" } ?? host
        let progress = "\(received) of \(total.map { "\($0)" } ?? "an unknown number of") bytes"
        guard error.domain == NSURLErrorDomain else { return .transfer(name, error.localizedDescription) }
        switch error.code {
        case NSURLErrorTimedOut:
            return .timedOut(name, seconds: timeout, received: received, total: total)
        case NSURLErrorCannotConnectToHost:
            return .transfer(name, "cannot connect to \(address): the connection was refused (no server listening there?)")
        case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed:
            return .transfer(name, "host \(host) not found (its name does not resolve)")
        case NSURLErrorNotConnectedToInternet:
            return .transfer(name, "no network connection")
        case NSURLErrorNetworkConnectionLost:
            return .transfer(name, "the connection to \(address) was lost after \(progress)")
        case NSURLErrorBadServerResponse:
            return .transfer(name, "\(address) closed the connection without a valid reply")
        case NSURLErrorSecureConnectionFailed, NSURLErrorServerCertificateHasBadDate, NSURLErrorServerCertificateUntrusted,
             NSURLErrorServerCertificateHasUnknownRoot, NSURLErrorServerCertificateNotYetValid:
            return .transfer(name, "the TLS connection to \(address) failed: \(error.localizedDescription)")
        default:
            // libcurl's own words, e.g. "transfer closed with 100 bytes remaining to read".
            return .transfer(name, "\(error.localizedDescription) (after \(progress))")
        }
    }

    /// `Content-Range: bytes START-END/TOTAL`.
    static func contentRange(_ response: HTTPURLResponse) -> (start: Int64, total: Int64)? {
        guard let value = response.value(forHTTPHeaderField: "Content-Range"),
              value.hasPrefix("bytes ") else { return nil }
        let parts = value.dropFirst(6).split(separator: "/")
        guard parts.count == 2, let start = parts[0].split(separator: "-").first.flatMap({ Int64($0) }),
              let total = Int64(parts[1]) else { return nil }
        return (start, total)
    }

    /// One request's progress, signalled by the delegate.
    final class Request: @unchecked Sendable {
        let headers = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        var response: HTTPURLResponse?
        /// The reply's Content-Encoding, nil when absent or `identity`.
        var encoding: String?
        /// Whether the body is taken: status 200 or 206, not encoded unless decodable and whole.
        var accepted = false
        /// Body bytes received (decoded ones when `encoding` is set).
        var received: Int64 = 0
        var failure: Error?

        /// Content-Length, when it counts the bytes received (the reply is not encoded).
        var bodyLength: Int64? {
            guard encoding == nil, let length = response?.expectedContentLength, length >= 0 else { return nil }
            return length
        }

        func waitForHeaders() -> HTTPURLResponse? {
            headers.wait()
            headers.signal()
            return response
        }

        /// Waits for the end; returns why it failed, if it did (short bodies included).
        func waitForCompletion(expected: Int64?, url: URL) -> Error? {
            done.wait()
            if let failure { return failure }
            let expected = expected ?? bodyLength
            if let expected, received != expected {
                return DownloadError.transfer(url.absoluteString, "got \(received) of \(expected) bytes")
            }
            return nil
        }
    }

    /// The URLSession delegate: one request at a time, its body appended to the pipe.
    final class Relay: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let pipe: BytePipe
        let url: URL
        let timeout: Int
        private let lock = NSLock()
        private var current: Request?
        /// Body bytes appended to the pipe over all requests, and the file's length once a
        /// reply told it: what a failure reports as received.
        private var received: Int64 = 0
        private var total: Int64?

        /// The credential headers for `url`'s origin, and the names any redirect to another
        /// origin must go without.
        let headers: [(name: String, value: String)]
        let origin: Origin?

        init(pipe: BytePipe, url: URL, timeout: Int, headers: [(name: String, value: String)]) {
            self.pipe = pipe
            self.url = url
            self.timeout = timeout
            self.headers = headers
            origin = Origin(url)
        }

        /// Issues a GET for `range` of the file (the whole file when nil), asking for the
        /// bytes as stored (`Accept-Encoding: identity`).
        func start(_ session: URLSession, range: Range<Int64>?, ifRange: String?) -> Request {
            let request = Request()
            lock.withLock { current = request }
            var urlRequest = URLRequest(url: url)
            urlRequest.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
            if let range {
                urlRequest.setValue("bytes=\(range.lowerBound)-\(range.upperBound - 1)", forHTTPHeaderField: "Range")
            }
            if let ifRange { urlRequest.setValue(ifRange, forHTTPHeaderField: "If-Range") }
            for (name, value) in headers { urlRequest.addValue(value, forHTTPHeaderField: name) }
            session.dataTask(with: urlRequest).resume()
            return request
        }

        private var request: Request? { lock.withLock { current } }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            let http = response as? HTTPURLResponse
            let status = http?.statusCode ?? 0
            let encoding = http?.value(forHTTPHeaderField: "Content-Encoding")
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                .flatMap { $0.isEmpty || $0 == "identity" ? nil : $0 }
            let accepted = status == 206 ? encoding == nil
                : status == 200 && (encoding.map(HTTPByteSource.decodedEncodings.contains) ?? true)
            if let request {
                request.response = http
                request.encoding = encoding
                request.accepted = accepted
            }
            if accepted, let http {
                let length = status == 206 ? HTTPByteSource.contentRange(http)?.total : request?.bodyLength
                lock.withLock { if total == nil { total = length } }
            }
            completionHandler(accepted ? .allow : .cancel)
            request?.headers.signal()
        }

        /// A redirect keeps Range and Accept-Encoding; to another origin (scheme, host, port) it
        /// drops the credentials: Authorization and every `--header`, as curl does.
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            var request = request
            if let target = request.url, Origin(target) != origin || origin == nil {
                let dropped = Set(headers.map { $0.name.lowercased() } + ["authorization", "cookie", "proxy-authorization"])
                var kept: [String: String] = [:]
                for (name, value) in request.allHTTPHeaderFields ?? [:] where !dropped.contains(name.lowercased()) {
                    kept[name] = value
                }
                request.allHTTPHeaderFields = kept
            }
            completionHandler(request)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard let request, request.accepted else { return }
            request.received += Int64(data.count)
            lock.withLock { received += Int64(data.count) }
            do {
                try pipe.append([UInt8](data))
            } catch {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            guard let request else { return }
            if let error, request.accepted || request.response == nil {
                let progress: (Int64, Int64?) = lock.withLock { (self.received, self.total) }
                request.failure = HTTPByteSource.describe(error, url: url, timeout: timeout,
                                                          received: progress.0, total: progress.1)
            }
            if request.response == nil { request.headers.signal() }
            request.done.signal()
        }
    }
}
