import Archives
import Foundation

/// A byte queue between a producer (a download, a zip member decoder on its own thread) and a
/// consumer that reads it as a `ByteSource`. The producer is told to pause when more than
/// `highWater` bytes wait and to resume below `lowWater`, so memory stays bounded.
///
/// ```
/// producer ── write(bytes) ──► [ chunk | chunk | chunk ] ── read(into:) ──► consumer
///             onPause()/onResume() when the queue crosses high/low water
/// ```
public final class BytePipe: ByteSource, @unchecked Sendable {
    public let name: String
    let highWater: Int
    let lowWater: Int
    /// Called (under no lock) when the queue fills / drains; a download suspends/resumes its task.
    var onPause: () -> Void = {}
    var onResume: () -> Void = {}

    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var queued = 0
    private var paused = false
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

    /// Appends bytes without blocking (a download's delegate must not block); pauses the
    /// producer past high water. Throws once the consumer has cancelled.
    public func append(_ bytes: [UInt8]) throws {
        var pause = false
        try condition.withLock {
            if cancelled { throw CancellationError() }
            guard !bytes.isEmpty else { return }
            chunks.append(bytes)
            queued += bytes.count
            if queued > highWater, !paused { paused = true; pause = true }
            condition.broadcast()
        }
        if pause { onPause() }
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
        var resume = false
        let count: Int = try condition.withLock {
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
            if paused, queued < lowWater { paused = false; resume = true }
            condition.broadcast()
            return count
        }
        if resume { onResume() }
        return count
    }
}
