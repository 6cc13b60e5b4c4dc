import Digests
import Testing

/// SHA-256 and SHA-1 against the FIPS 180 examples, and the value semantics callers rely on.
@Suite struct DigestsTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test func fipsVectors() {
        #expect(Self.hex(SHA256.hash(data: Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex(SHA256.hash(data: [UInt8]()))
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex(Insecure.SHA1.hash(data: Array("abc".utf8)))
            == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    /// A million "a" fed in odd-sized pieces equals the one-shot digest (FIPS 180 long example).
    @Test func streamingInPieces() {
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var digest = SHA256()
        var start = 0
        var piece = 1
        while start < million.count {
            let end = min(million.count, start + piece)
            million[start..<end].withUnsafeBytes { digest.update(bufferPointer: $0) }
            start = end
            piece = piece * 3 + 1
        }
        #expect(Self.hex(digest.finalize())
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// finalize() leaves the hash going on, and a copy is independent of the original.
    @Test func finalizeAndCopiesDoNotDisturbTheOriginal() {
        var digest = SHA256()
        digest.update(data: Array("ab".utf8))
        let early = digest.finalize()
        var copy = digest
        copy.update(data: Array("zzz".utf8))
        digest.update(data: Array("c".utf8))
        #expect(Self.hex(early) == Self.hex(SHA256.hash(data: Array("ab".utf8))))
        #expect(Self.hex(digest.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex(copy.finalize()) == Self.hex(SHA256.hash(data: Array("abzzz".utf8))))
    }
}
