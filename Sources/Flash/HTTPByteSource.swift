import Archives
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A file downloaded over http(s), read as it arrives: URLSession's data delegate feeds a
/// `BytePipe`, and the task is suspended while the pipe is over high water, so a slow target
/// never makes the whole download pile up in memory.
public final class HTTPByteSource: ByteSource, @unchecked Sendable {
    public var name: String { url.absoluteString }
    public let url: URL
    /// Content-Length when the server sent one.
    public private(set) var expectedLength: Int64?

    private let pipe: BytePipe
    private let session: URLSession
    private let task: URLSessionDataTask
    private let headers = DispatchSemaphore(value: 0)
    private let relay: Relay

    /// Starts the download and waits for the response headers; throws on a status other than 200.
    public init(url: URL) throws {
        self.url = url
        pipe = BytePipe(name: url.absoluteString)
        relay = Relay(pipe: pipe, url: url)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration, delegate: relay, delegateQueue: queue)
        task = session.dataTask(with: url)
        let task = task
        pipe.onPause = { task.suspend() }
        pipe.onResume = { task.resume() }
        relay.headers = headers
        task.resume()
        headers.wait()
        if let status = relay.status, status != 200 {
            cancel()
            throw FlashError.httpStatus(url.absoluteString, status)
        }
        expectedLength = relay.length
    }

    deinit { cancel() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try pipe.read(into: buffer)
    }

    func cancel() {
        pipe.cancel()
        task.cancel()
        session.invalidateAndCancel()
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

    /// The URLSession delegate: headers, data and completion into the pipe.
    final class Relay: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let pipe: BytePipe
        let url: URL
        var headers: DispatchSemaphore?
        var status: Int?
        var length: Int64?
        var received: Int64 = 0

        init(pipe: BytePipe, url: URL) {
            self.pipe = pipe
            self.url = url
        }

        private func headersArrived() {
            headers?.signal()
            headers = nil
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            status = (response as? HTTPURLResponse)?.statusCode
            length = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
            completionHandler(status == 200 ? .allow : .cancel)
            headersArrived()
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            received += Int64(data.count)
            do {
                try pipe.append([UInt8](data))
            } catch {
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            if let error {
                pipe.finish(error: FlashError.transfer(url.absoluteString, error.localizedDescription))
            } else if let length, received != length {
                pipe.finish(error: FlashError.transfer(url.absoluteString, "got \(received) of \(length) bytes"))
            } else {
                pipe.finish()
            }
            headersArrived()
            session.finishTasksAndInvalidate()
        }
    }
}
