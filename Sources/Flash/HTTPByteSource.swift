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
public final class HTTPByteSource: ByteSource, @unchecked Sendable {
    public var name: String { url.absoluteString }
    public let url: URL
    /// The file's length when the server told it (Content-Range total or Content-Length).
    public private(set) var expectedLength: Int64?
    /// Whether the server honours Range requests, so memory is bounded.
    public private(set) var ranged = false

    private let chunkSize: Int64
    private let pipe: BytePipe
    private let session: URLSession
    private let relay: Relay
    private var producer: Thread?

    /// Starts the download and waits for the first response's headers; throws on a status
    /// other than 200 or 206.
    public init(url: URL, chunkSize: Int = 8 << 20) throws {
        self.url = url
        self.chunkSize = Int64(chunkSize)
        pipe = BytePipe(name: url.absoluteString, highWater: 2 * chunkSize, lowWater: chunkSize)
        relay = Relay(pipe: pipe, url: url)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration, delegate: relay, delegateQueue: queue)

        let first = relay.start(session, range: 0..<self.chunkSize, ifRange: nil)
        let response = first.waitForHeaders()
        switch response?.statusCode {
        case 206:
            guard let range = response.flatMap(Self.contentRange), range.start == 0 else {
                session.invalidateAndCancel()
                throw FlashError.transfer(url.absoluteString, "the server answered a range request without a usable Content-Range")
            }
            ranged = true
            expectedLength = range.total
            let etag = response?.value(forHTTPHeaderField: "ETag")
            let producer = Thread { [relay, pipe, session, chunkSize = self.chunkSize] in
                Self.fetchRest(first: first, total: range.total, chunk: chunkSize, etag: etag,
                               relay: relay, pipe: pipe, session: session)
            }
            self.producer = producer
            producer.start()
        case 200:
            expectedLength = response.map(\.expectedContentLength).flatMap { $0 >= 0 ? $0 : nil }
            Thread { [pipe, url] in
                if let error = first.waitForCompletion(expected: nil, url: url) { pipe.finish(error: error) } else { pipe.finish() }
            }.start()
        case 416:
            expectedLength = 0
            session.invalidateAndCancel()
            pipe.finish()
        default:
            session.invalidateAndCancel()
            if let status = response?.statusCode { throw FlashError.httpStatus(url.absoluteString, status) }
            throw first.failure ?? FlashError.transfer(url.absoluteString, "no response")
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
    public static func fetch(_ url: URL, limit: Int = 64 << 20) throws -> [UInt8]? {
        let source: HTTPByteSource
        do {
            source = try HTTPByteSource(url: url)
        } catch FlashError.httpStatus(_, 404) {
            return nil
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { return bytes }
            bytes += buffer[..<count]
            guard bytes.count <= limit else { throw FlashError.transfer(url.absoluteString, "larger than \(limit) bytes") }
        }
    }

    /// The producer thread: after the first range, one request per chunk, each issued once
    /// the reader has drained the pipe below low water.
    private static func fetchRest(first: Request, total: Int64, chunk: Int64, etag: String?,
                                  relay: Relay, pipe: BytePipe, session: URLSession) {
        defer { session.finishTasksAndInvalidate() }
        var request = first
        var start: Int64 = 0
        do {
            while true {
                let length = min(chunk, total - start)
                if let error = request.waitForCompletion(expected: length, url: relay.url) { throw error }
                start += length
                guard start < total else { break }
                try pipe.waitForRoom()
                request = relay.start(session, range: start..<min(start + chunk, total), ifRange: etag)
                let response = request.waitForHeaders()
                guard response?.statusCode == 206, let range = response.flatMap(contentRange),
                      range.start == start, range.total == total else {
                    throw request.failure ?? FlashError.transfer(relay.url.absoluteString,
                        "the file changed during the download (range request at byte \(start) answered \(response?.statusCode ?? 0))")
                }
            }
            pipe.finish()
        } catch {
            pipe.finish(error: error)
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
        var received: Int64 = 0
        var failure: Error?

        func waitForHeaders() -> HTTPURLResponse? {
            headers.wait()
            headers.signal()
            return response
        }

        /// Waits for the end; returns why it failed, if it did (short bodies included).
        func waitForCompletion(expected: Int64?, url: URL) -> Error? {
            done.wait()
            if let failure { return failure }
            let expected = expected ?? response.map(\.expectedContentLength).flatMap { $0 >= 0 ? $0 : nil }
            if let expected, received != expected {
                return FlashError.transfer(url.absoluteString, "got \(received) of \(expected) bytes")
            }
            return nil
        }
    }

    /// The URLSession delegate: one request at a time, its body appended to the pipe.
    final class Relay: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let pipe: BytePipe
        let url: URL
        private let lock = NSLock()
        private var current: Request?

        init(pipe: BytePipe, url: URL) {
            self.pipe = pipe
            self.url = url
        }

        func start(_ session: URLSession, range: Range<Int64>, ifRange: String?) -> Request {
            let request = Request()
            lock.withLock { current = request }
            var urlRequest = URLRequest(url: url)
            urlRequest.setValue("bytes=\(range.lowerBound)-\(range.upperBound - 1)", forHTTPHeaderField: "Range")
            if let ifRange { urlRequest.setValue(ifRange, forHTTPHeaderField: "If-Range") }
            session.dataTask(with: urlRequest).resume()
            return request
        }

        private var request: Request? { lock.withLock { current } }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            let http = response as? HTTPURLResponse
            request?.response = http
            completionHandler(http?.statusCode == 200 || http?.statusCode == 206 ? .allow : .cancel)
            request?.headers.signal()
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard let request, let status = request.response?.statusCode, status == 200 || status == 206 else { return }
            request.received += Int64(data.count)
            do {
                try pipe.append([UInt8](data))
            } catch {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            guard let request else { return }
            if let error, request.response.map({ $0.statusCode == 200 || $0.statusCode == 206 }) ?? true {
                request.failure = FlashError.transfer(url.absoluteString, error.localizedDescription)
            }
            if request.response == nil { request.headers.signal() }
            request.done.signal()
        }
    }
}
