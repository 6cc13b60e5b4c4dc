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
        #expect(digest.hex() == Checksums.hex(SHA256.hash(data: bytes)))
    }

    /// A digest dropped before its result is asked for ends its thread (no hang).
    @Test func droppedDigestEndsItsThread() {
        for _ in 0..<20 {
            let digest = BackgroundDigest()
            [UInt8](repeating: 1, count: 9 << 20).withUnsafeBytes { digest.update($0) }
        }
    }
}
