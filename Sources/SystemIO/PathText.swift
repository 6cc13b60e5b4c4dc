/// Paths as text, the way the user gave them (relative stays relative).
public enum PathText {
    /// The directory part of `path`: what is left after its last component, "" for a bare
    /// name, "/" for a name at the root. Trailing slashes do not make a component:
    ///
    ///     "a/b" -> "a"    "a/b/" -> "a"    "a//b" -> "a"    "/o" -> "/"    "o" -> ""    "/" -> "/"
    ///
    /// Foundation's `NSString.deletingLastPathComponent` answers the same, but traps on a path of
    /// one character ("o") in Swift 6.3 on Linux: `render --output-dir o` crashed in it.
    public static func parent(of path: String) -> String {
        var text = Substring(path)
        while text.count > 1, text.hasSuffix("/") { text.removeLast() }
        guard let slash = text.lastIndex(of: "/") else { return "" }
        var head = text[..<slash]
        while head.count > 1, head.hasSuffix("/") { head.removeLast() }
        return head.isEmpty ? "/" : String(head)
    }
}
