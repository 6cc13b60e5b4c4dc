import SystemIO
import Testing

@Suite struct PathTextTests {
    @Test(arguments: [
        ("a/b", "a"), ("a/b/", "a"), ("a//b", "a"), ("/o", "/"), ("o", ""), ("/", "/"), ("ab", ""),
        ("o/", ""), ("x/o", "x"), ("/a/b/c", "/a/b"), ("//", "/"), ("./o", "."), ("../o", ".."),
    ])
    func parentIsTheDirectoryPart(path: String, parent: String) {
        #expect(PathText.parent(of: path) == parent)
    }
}
