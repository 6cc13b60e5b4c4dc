import Foundation

/// A URL's origin: scheme, host and port (the default port when none is written), as curl
/// compares them before sending credentials on after a redirect.
public struct Origin: Hashable, Sendable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int

    public init?(_ url: URL) {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        guard port >= 0 else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    public var description: String { "\(scheme)://\(host):\(port)" }
}

/// What a download may authenticate with, and to whom it is sent:
///
/// - `--header 'Name: value'` (repeatable): sent to the origin of the URL given on the command
///   line only.
/// - `~/.netrc` (`machine HOST login L password P`, or `default`; HOME from the environment),
///   as curl reads it: Basic auth for a URL of that host, unless a `--header` sets
///   Authorization.
/// - `GH_TOKEN`, else `GITHUB_TOKEN`: `Authorization: Bearer TOKEN` to a GitHub API origin
///   (https://api.github.com, and the origin of an API URL given) only, unless a `--header` or a netrc entry already authorizes.
///
/// `headers(for:)` names what one request carries. HTTPByteSource sends those headers to the
/// URL's origin only: a redirect to another scheme, host or port goes without them (curl's rule).
/// No value is ever part of a description, log line or error.
public struct Credentials: Sendable {
    /// The user's `--header` values, in order.
    public var headers: [(name: String, value: String)]
    /// The origin `headers` were given for (the URL on the command line); nil: sent to none.
    public var headerOrigin: Origin?
    /// Headers that are no credential (GitHub's `Accept`), sent to `headerOrigin` with
    /// `headers` and never named as a credential sent.
    public var protocolHeaders: [(name: String, value: String)] = []
    /// `HOME/.netrc` is read when a URL has no `--header` Authorization; nil: no netrc.
    public var home: String?
    /// GH_TOKEN or GITHUB_TOKEN.
    public var githubToken: String?
    /// The origins that get `githubToken`.
    public var githubAPIOrigins: Set<Origin>

    public static let defaultGitHubAPI = URL(string: "https://api.github.com")!

    /// No credentials at all.
    public init() {
        headers = []
        headerOrigin = nil
        home = nil
        githubToken = nil
        githubAPIOrigins = []
    }

    /// The user's `--header` values for `url`, `environment`'s HOME (for .netrc) and GH_TOKEN
    /// or GITHUB_TOKEN (for the GitHub API: https://api.github.com and the origins of `apiURLs`).
    public init(headers: [(name: String, value: String)], for url: URL?, environment: [String: String],
                apiURLs: [URL] = []) {
        self.headers = headers
        headerOrigin = url.flatMap(Origin.init)
        home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        githubToken = [environment["GH_TOKEN"], environment["GITHUB_TOKEN"]].compactMap { $0 }.first { !$0.isEmpty }
        githubAPIOrigins = Set(([Self.defaultGitHubAPI] + apiURLs).compactMap(Origin.init))
    }

    /// Parses a `--header` argument: `Name: value`, the name an HTTP token, the value without
    /// line breaks. The error names the header but never its value.
    public static func parseHeader(_ text: String) throws -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":") else {
            throw CredentialError("expected 'Name: value' (no colon)")
        }
        let name = String(text[..<colon])
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !name.isEmpty, name.allSatisfy(tokenCharacters.contains) else {
            throw CredentialError("expected 'Name: value': the name before the colon must be a header name (letters, digits, -)")
        }
        guard !reservedHeaders.contains(name.lowercased()) else {
            throw CredentialError("header \(name) is set by the download itself (Range requests, identity encoding) and cannot be given")
        }
        let value = text[text.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7f }) else {
            throw CredentialError("header \(name): the value holds a line break or a control character")
        }
        guard !value.isEmpty else { throw CredentialError("header \(name): the value is empty") }
        return (name, value)
    }

    /// Headers HTTPByteSource sets itself; a `--header` may not replace them.
    static let reservedHeaders: Set<String> = ["range", "if-range", "accept-encoding", "host", "content-length", "transfer-encoding", "connection"]

    /// The headers a request to `url` carries: the `--header` values when `url` is of their
    /// origin, then Basic auth from netrc or the GitHub token, unless one of them is an
    /// Authorization already.
    public func headers(for url: URL) -> [(name: String, value: String)] {
        guard let origin = Origin(url) else { return [] }
        var result = origin == headerOrigin ? protocolHeaders + headers : []
        if result.contains(where: { $0.name.lowercased() == "authorization" }) { return result }
        if let home, let entry = Netrc.entry(for: origin.host, in: URL(fileURLWithPath: home).appendingPathComponent(".netrc").path) {
            let basic = Data("\(entry.login):\(entry.password)".utf8).base64EncodedString()
            result.append(("Authorization", "Basic \(basic)"))
        } else if let githubToken, githubAPIOrigins.contains(origin) {
            result.append(("Authorization", "Bearer \(githubToken)"))
        }
        return result
    }

    /// Where the credentials for `url` come from, in words without values (for an error).
    public func sources(for url: URL) -> [String] {
        guard let origin = Origin(url) else { return [] }
        var sources: [String] = []
        if origin == headerOrigin, !headers.isEmpty { sources.append("--header " + headers.map(\.name).joined(separator: ", ")) }
        if headers.contains(where: { $0.name.lowercased() == "authorization" }) && origin == headerOrigin { return sources }
        if let home, Netrc.entry(for: origin.host, in: URL(fileURLWithPath: home).appendingPathComponent(".netrc").path) != nil {
            sources.append("~/.netrc")
        } else if githubToken != nil, githubAPIOrigins.contains(origin) {
            sources.append("GH_TOKEN/GITHUB_TOKEN")
        }
        return sources
    }

    /// Whether `url` is a GitHub API origin (its errors mention GITHUB_TOKEN).
    public func isGitHubAPI(_ url: URL) -> Bool {
        Origin(url).map(githubAPIOrigins.contains) ?? false
    }
}

/// A malformed `--header`; never holds a header value.
public struct CredentialError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `~/.netrc` as curl reads it: whitespace-separated tokens, `machine NAME` or `default`
/// starting an entry, `login` and `password` in it (`account` ignored, `macdef` skipped to
/// the next blank line), `#` comments, double-quoted tokens with backslash escapes. The first `machine`
/// that names the host wins; `default` applies when none does.
public enum Netrc {
    public struct Entry: Equatable, Sendable {
        public var login: String
        public var password: String
    }

    /// The entry for `host` in the file at `path`; nil when the file is missing or has none
    /// with both a login and a password.
    public static func entry(for host: String, in path: String) -> Entry? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return entry(for: host, text: String(decoding: data, as: UTF8.self))
    }

    public static func entry(for host: String, text: String) -> Entry? {
        var machine: String?? = nil  // nil: before any entry; .some(nil): default
        var login: String?, password: String?
        var matched: Entry?, fallback: Entry?
        func close() {
            guard case .some(let name) = machine, let login, let password else { return }
            let entry = Entry(login: login, password: password)
            if let name {
                if matched == nil, name.lowercased() == host.lowercased() { matched = entry }
            } else if fallback == nil {
                fallback = entry
            }
        }
        var tokens = tokenize(text)[...]
        while let token = tokens.popFirst() {
            switch token {
            case "machine":
                close()
                machine = .some(tokens.popFirst())
                login = nil; password = nil
            case "default":
                close()
                machine = .some(nil)
                login = nil; password = nil
            case "login": login = tokens.popFirst()
            case "password": password = tokens.popFirst()
            case "account": _ = tokens.popFirst()
            case Self.macdefMarker: break
            default: break
            }
        }
        close()
        return matched ?? fallback
    }

    static let macdefMarker = "\u{0}macdef"

    /// Tokens, with a macdef's body (up to a blank line) dropped.
    static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var index = 0
        while index < lines.count {
            var chars = Substring(lines[index])
            index += 1
            while true {
                chars = chars.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
                guard let first = chars.first else { break }
                var token = ""
                if first == "\"" {
                    chars = chars.dropFirst()
                    while let c = chars.popFirst(), c != "\"" {
                        if c == "\\", let next = chars.popFirst() {
                            token.append(next == "n" ? "\n" : next == "t" ? "\t" : next)
                        } else {
                            token.append(c)
                        }
                    }
                } else if first == "#" {
                    break  // a comment, to the end of the line
                } else {
                    let word = chars.prefix(while: { $0 != " " && $0 != "\t" && $0 != "\r" })
                    chars = chars.dropFirst(word.count)
                    token = String(word)
                }
                if token == "macdef" && first != "\"" {
                    _ = chars  // the macro's name; its body runs to the next blank line
                    while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).isEmpty { index += 1 }
                    tokens.append(macdefMarker)
                    break
                }
                tokens.append(token)
            }
        }
        return tokens
    }
}
