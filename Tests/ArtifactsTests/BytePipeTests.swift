import Foundation
import Archives
import Testing
@testable import Artifacts

@Suite struct BytePipeTests {
    @Test func deliversBytesInOrderAcrossChunkBoundaries() throws {
        let pipe = BytePipe(name: "t", highWater: 10, lowWater: 4)
        try pipe.append([1, 2, 3, 4, 5, 6])
        try pipe.append([7, 8, 9, 10, 11, 12])
        #expect(pipe.queuedBytes == 12)
        pipe.finish()
        #expect(try readAll(pipe, chunk: 4) == Array(1...12))
        #expect(pipe.queuedBytes == 0)
    }

    @Test func waitForRoomReturnsOnceTheReaderDrainsBelowLowWater() throws {
        let pipe = BytePipe(name: "t", highWater: 8, lowWater: 4)
        try pipe.append([UInt8](repeating: 7, count: 6))
        let room = DispatchSemaphore(value: 0)
        let queuedWhenReturned = Locked<Int?>(nil)
        Thread {
            try? pipe.waitForRoom()
            queuedWhenReturned.set(pipe.queuedBytes)
            room.signal()
        }.start()
        var buffer = [UInt8](repeating: 0, count: 3)
        #expect(try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) } == 3)
        #expect(room.wait(timeout: .now() + 60) == .success, "waitForRoom still blocked under low water")
        // It returned only once the read took the queue under low water (6 bytes were over it).
        #expect(queuedWhenReturned.get() == 3)
    }

    @Test func errorsReachTheReaderAfterTheData() throws {
        let pipe = BytePipe(name: "t")
        try pipe.append([9])
        pipe.finish(error: ArtifactError.unreadable("u", "reset"))
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) } == 1)
        #expect(throws: ArtifactError.unreadable("u", "reset")) { try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) } }
    }

    @Test func writerBlocksAtHighWaterUntilRead() throws {
        let pipe = BytePipe(name: "t", highWater: 4, lowWater: 1)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            for value in UInt8(0)..<50 { try? [value].withUnsafeBytes { try pipe.write($0) } }
            pipe.finish()
            done.signal()
        }
        thread.start()
        // The writer fills the queue to one byte over high water and stops there: it cannot
        // finish its 50 writes while nothing is read.
        try waitUntil("the writer reached high water") { pipe.queuedBytes >= 5 }
        #expect(pipe.queuedBytes == 5)
        #expect(done.wait(timeout: .now()) == .timedOut, "the writer finished without a reader")
        #expect(try readAll(pipe, chunk: 3) == Array(0..<50))
        done.wait()
    }

    @Test func cancelStopsABlockedWriter() throws {
        let pipe = BytePipe(name: "t", highWater: 1, lowWater: 0)
        let done = DispatchSemaphore(value: 0)
        let thrown = Locked(false)
        let thread = Thread {
            do {
                for _ in 0..<10 { try [UInt8(1), 2].withUnsafeBytes { try pipe.write($0) } }
            } catch {
                thrown.set(true)
            }
            done.signal()
        }
        thread.start()
        // The first write fits; the second blocks over high water.
        try waitUntil("the first write queued") { pipe.queuedBytes >= 2 }
        #expect(pipe.queuedBytes == 2)
        pipe.cancel()
        #expect(done.wait(timeout: .now() + 60) == .success, "the writer still blocked after cancel")
        #expect(thrown.get(), "the blocked write returned instead of throwing")
        #expect(throws: CancellationError.self) { try pipe.append([1]) }
    }

    /// Reads `pipe` to its end, `chunk` bytes at a time.
    func readAll(_ pipe: BytePipe, chunk: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        try pipe.forEachChunk(bufferSize: chunk) { bytes, _ in out += bytes }
        return out
    }

    /// Polls `condition` until it holds; fails the test only when it still does not after a
    /// minute (a hang, not a slow machine).
    func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        let deadline = DispatchTime.now() + 60
        while !condition() {
            try #require(DispatchTime.now() < deadline, "timed out waiting until \(what)")
            sched_yield()
        }
    }
}

/// A value shared with a thread of the test.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
}
