import Archives
import Foundation

/// A byte queue between a producer (a download, a zip member decoder on its own thread) and a
/// consumer that reads it as a `ByteSource`. A producer thread blocks in `write` while more
/// than `highWater` bytes wait, or waits in `waitForRoom` until fewer than `lowWater` do
/// before fetching more, so memory stays bounded.
///
/// ```
/// producer ── write / append ──► [ chunk | chunk | chunk ] ── read(into:) ──► consumer
///             blocks over highWater; waitForRoom() returns under lowWater
/// ```
public final class BytePipe: ByteSource, @unchecked Sendable {
    public let name: String
    let highWater: Int
    let lowWater: Int
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var queued = 0
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    public init(name: String, highWater: Int = 32 << 20, lowWater: Int = 8 << 20) {
        self.name = name
        self.highWater = highWater
        self.lowWater = lowWater
    }

    /// Bytes waiting now; for tests and memory checks.
    public var queuedBytes: Int { condition.withLock { queued } }

    /// Appends bytes without blocking (a download's delegate must not block). Throws once the
    /// consumer has cancelled.
    public func append(_ bytes: [UInt8]) throws {
        try condition.withLock {
            if cancelled { throw CancellationError() }
            guard !bytes.isEmpty else { return }
            chunks.append(bytes)
            queued += bytes.count
            condition.broadcast()
        }
    }

    /// Blocks until fewer than `lowWater` bytes wait (the moment to fetch the next chunk).
    public func waitForRoom() throws {
        try condition.withLock {
            while queued >= lowWater, !cancelled { condition.wait() }
            if cancelled { throw CancellationError() }
        }
    }

    /// Appends bytes and blocks while the queue is over high water (for producer threads).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try condition.withLock {
            while queued > highWater, !cancelled { condition.wait() }
            if cancelled { throw CancellationError() }
            guard bytes.count > 0 else { return }
            chunks.append(Array(bytes))
            queued += bytes.count
            condition.broadcast()
        }
    }

    /// Ends the stream: readers get the rest, then 0 (or `error`, thrown by the next read).
    public func finish(error: Error? = nil) {
        condition.withLock {
            finished = true
            if failure == nil { failure = error }
            condition.broadcast()
        }
    }

    /// The consumer gives up: blocked and later writes throw.
    public func cancel() {
        condition.withLock {
            cancelled = true
            chunks = []
            queued = 0
            condition.broadcast()
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try condition.withLock {
            while chunks.isEmpty, !finished { condition.wait() }
            if chunks.isEmpty {
                if let failure { throw failure }
                return 0
            }
            let chunk = chunks[0]
            let count = min(buffer.count, chunk.count - head)
            chunk.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[head..<head + count])) }
            head += count
            if head == chunk.count {
                chunks.removeFirst()
                head = 0
            }
            queued -= count
            condition.broadcast()
            return count
        }
    }
}
