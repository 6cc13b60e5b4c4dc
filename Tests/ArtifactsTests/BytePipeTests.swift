import Foundation
import Testing
@testable import Artifacts

@Suite struct BytePipeTests {
    @Test func deliversBytesInOrderAcrossChunkBoundaries() throws {
        let pipe = BytePipe(name: "t", highWater: 10, lowWater: 4)
        try pipe.append([1, 2, 3, 4, 5, 6])
        try pipe.append([7, 8, 9, 10, 11, 12])
        #expect(pipe.queuedBytes == 12)
        pipe.finish()
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) }
            if n == 0 { break }
            out += buffer[..<n]
        }
        #expect(out == Array(1...12))
        #expect(pipe.queuedBytes == 0)
    }

    @Test func waitForRoomReturnsOnceTheReaderDrainsBelowLowWater() throws {
        let pipe = BytePipe(name: "t", highWater: 8, lowWater: 4)
        try pipe.append([UInt8](repeating: 7, count: 6))
        let room = DispatchSemaphore(value: 0)
        Thread {
            try? pipe.waitForRoom()
            room.signal()
        }.start()
        #expect(room.wait(timeout: .now() + 0.1) == .timedOut)
        var buffer = [UInt8](repeating: 0, count: 3)
        #expect(try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) } == 3)
        #expect(room.wait(timeout: .now() + 5) == .success)
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
        usleep(50_000)
        #expect(pipe.queuedBytes <= 5)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 3)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try pipe.read(into: $0) }
            if n == 0 { break }
            out += buffer[..<n]
        }
        done.wait()
        #expect(out == Array(0..<50))
    }

    @Test func cancelStopsABlockedWriter() {
        let pipe = BytePipe(name: "t", highWater: 1, lowWater: 0)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                for _ in 0..<10 { try [1, 2].withUnsafeBytes { try pipe.write($0) } }
            } catch {
                done.signal()
            }
        }
        thread.start()
        usleep(20_000)
        pipe.cancel()
        #expect(done.wait(timeout: .now() + 5) == .success)
    }
}
