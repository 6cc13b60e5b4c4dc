/// An error whose message starts with the file (or URL) it is about: `FILE: what went wrong`.
/// Code that puts a file's name in front of a message asks ``file`` instead of searching the
/// message's text for it.
public protocol FileNamingError: Error, CustomStringConvertible {
    /// The file or URL the message starts with.
    var file: String { get }
}

public enum ErrorText {
    /// `error`'s message about `file`, naming it once: as it is when the error already starts
    /// with `file` (a ``FileNamingError`` about it), else `file: message`.
    public static func about(_ file: String, _ error: Error) -> String {
        if let named = error as? FileNamingError, named.file == file { return named.description }
        return "\(file): \(error)"
    }
}
