import Testing
@testable import Archives

/// A source that hands out at most 3 bytes per read, to exercise short reads.
final class DribbleSource: ByteSource {
    var bytes: [UInt8]
    let name = "dribble"
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(3, buffer.count, bytes.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        bytes.removeFirst(count)
        return count
    }
}

@Suite struct PeekingSourceTests {
    @Test func peekedBytesAreReadAgainAndEveryChunkIsObserved() throws {
        let payload = (0..<20).map { UInt8($0) }
        var seen: [UInt8] = []
        var totals: [UInt64] = []
        let source = PeekingSource(DribbleSource(payload)) { chunk, total in
            seen += chunk
            totals.append(total)
        }
        #expect(try source.peek(8) == Array(payload[..<8]), "a peek gathers short reads")
        var back: [UInt8] = []
        try source.forEachChunk(bufferSize: 5) { bytes, _ in back += bytes }
        #expect(back == payload)
        #expect(seen == payload)
        #expect(totals.last == 20 && source.consumed == 20)
    }

    @Test func peekPastTheEndReturnsWhatThereIs() throws {
        let source = PeekingSource(DribbleSource([1, 2]))
        #expect(try source.peek(8) == [1, 2])
        try source.drain()
        #expect(source.consumed == 2)
    }
}
