import Digests
import Testing

/// SHA256SUMS as GNU sha256sum writes and reads it: names holding a backslash, LF or CR are
/// escaped on a line starting with a backslash. The golden bytes are sha256sum 9.1's own output
/// for files named "a<LF>b.img", "c\\d.img" and "e<CR>f.img" holding "x", "y", "z".
@Suite struct SHA256SumsTests {
    static let golden = Array("\\2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  a\\nb.img\n\\a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa  c\\\\d.img\n\\594e519ae499312b29433b7dd8a97ff068defcba9755b6d5d00e84c524d67b06  e\\rf.img\n".utf8)
    static let digests = [
        "a\nb.img": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
        "c\\d.img": "a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa",
        "e\rf.img": "594e519ae499312b29433b7dd8a97ff068defcba9755b6d5d00e84c524d67b06",
    ]

    @Test func writesWhatSha256sumWrites() {
        #expect(SHA256Sums(digests: Self.digests).encoded() == Self.golden)
    }

    @Test func readsWhatSha256sumWrites() {
        #expect(SHA256Sums(parsing: Self.golden).digests == Self.digests)
    }

    @Test func plainNamesAndOddLines() {
        let text = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 *./pi.img.xz\r\n\nnot a line\n"
            + "\\9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  bad\\qescape\n"
        #expect(SHA256Sums(parsing: Array(text.utf8)).digests == ["pi.img.xz": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
        #expect(SHA256Sums.line(name: "pi.img", digest: "ab") == Array("ab  pi.img\n".utf8))
    }
}
