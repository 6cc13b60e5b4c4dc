import Artifacts
import Digests
import Testing

@Suite struct ContainerTests {
    @Test func magicBytesTellEveryContainer() {
        #expect(Container(header: [0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]) == .zip)
        #expect(Container(header: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]) == .xz)
        #expect(Container(header: [0x1f, 0x8b, 8, 0]) == .gzip)
        #expect(Container(header: [0x28, 0xb5, 0x2f, 0xfd]) == .zstd)
        #expect(Container(header: Array("BZh91AY".utf8)) == .bzip2)
        #expect(Container(header: [0xfa, 0xb8, 0, 0x10]) == .raw)
        #expect(Container(header: []) == .raw)
        #expect(Container(header: [0xfd, 0x37]) == .raw, "a prefix of a magic is not the magic")
    }

    @Test func compressedMeansAFilterStream() {
        #expect(Container.xz.isCompressed && Container.gzip.isCompressed && Container.zstd.isCompressed && Container.bzip2.isCompressed)
        #expect(!Container.raw.isCompressed && !Container.zip.isCompressed)
    }

    @Test func hexIsLowerCaseTwoDigitsAByte() {
        #expect(Hex.encode([0x00, 0x0a, 0x9f, 0xff]) == "000a9fff")
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode(SHA256.hash(data: Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
