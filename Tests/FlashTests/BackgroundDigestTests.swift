import Digests
@testable import Flash
import Testing

/// The threaded file digest equals a plain SHA-256 of the same bytes, whatever the pieces.
@Suite struct BackgroundDigestTests {
    @Test(arguments: [0, 1, 4_194_303, 4_194_304, 20_000_001])
    func matchesOneShotDigest(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let digest = BackgroundDigest()
        var start = 0
        var piece = 7
        while start < length {
            let end = min(length, start + piece)
            bytes[start..<end].withUnsafeBytes { digest.update($0) }
            start = end
            piece = piece * 5 + 3
        }
        #expect(digest.count == UInt64(length))
        #expect(digest.hex() == Hex.encode(SHA256.hash(data: bytes)))
    }

    /// `cut` ends a segment: each gets the digest of its own bytes (an empty one too), whether
    /// it is read while the stream goes on or at the end.
    @Test func segmentsAreHashedApart() {
        let lengths = [5, 0, 4_194_304 + 17, 1, 9_000_000, 4096]
        let pieces = lengths.enumerated().map { index, length in
            (0..<length).map { UInt8(truncatingIfNeeded: $0 &* (index + 3) &+ $0 >> 7) }
        }
        let digest = BackgroundDigest()
        var early: [String] = []
        for piece in pieces {
            for start in stride(from: 0, to: piece.count, by: 1_000_003) {
                piece[start..<min(start + 1_000_003, piece.count)].withUnsafeBytes { digest.update($0) }
            }
            digest.cut()
            early += digest.segments(from: early.count)
        }
        let all = digest.allSegments(from: 0)
        #expect(all == pieces.map { Hex.encode(SHA256.hash(data: $0)) })
        #expect(early == Array(all.prefix(early.count)))
        #expect(digest.allSegments(from: 4) == Array(all[4...]))
    }

    /// A digest dropped before its result is asked for is freed, which ends its thread
    /// (deinit hands the thread its end marker and waits for it).
    @Test func droppedDigestEndsItsThread() {
        weak var dropped: BackgroundDigest?
        do {
            let digest = BackgroundDigest()
            [UInt8](repeating: 1, count: 9 << 20).withUnsafeBytes { digest.update($0) }
            dropped = digest
        }
        #expect(dropped == nil, "a dropped BackgroundDigest is still alive: its hashing thread holds it")
    }
}
