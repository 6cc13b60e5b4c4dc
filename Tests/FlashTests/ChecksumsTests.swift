import Digests
import Testing
@testable import Flash

@Suite struct ChecksumsTests {
    @Test func parsesCoreutilsLines() {
        let text = """
        9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  pi.img.xz
        60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752 *pi.img.xz.bmap

        not a line
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ./dir/empty
        """
        let sums = Checksums(parsing: Array(text.utf8))
        #expect(sums.digests.count == 3)
        #expect(sums.digest(for: "pi.img.xz") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        #expect(sums.digest(for: "pi.img.xz.bmap") == "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752")
        #expect(sums.digest(for: "empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sums.digest(for: "other") == nil)
    }

    @Test func checkNamesTheFileOnMismatch() throws {
        let sums = Checksums(parsing: Array("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n".utf8))
        #expect(try sums.check("empty", bytes: []))
        #expect(try !sums.check("unlisted", bytes: [1]))
        #expect(throws: FlashError.fileChecksum("empty", expected: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                                actual: "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")) {
            try sums.check("empty", bytes: [0x61])
        }
    }
}
