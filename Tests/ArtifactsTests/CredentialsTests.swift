@testable import Artifacts
import Foundation
import Testing

/// Which request gets which credential: `--header` to its URL's origin, ~/.netrc by host,
/// GH_TOKEN/GITHUB_TOKEN to GitHub API origins only.
@Suite struct CredentialsTests {
    static func url(_ text: String) -> URL { URL(string: text)! }

    static func authorization(_ credentials: Credentials, _ text: String) -> String? {
        credentials.headers(for: url(text)).first { $0.name.lowercased() == "authorization" }?.value
    }

    @Test func githubTokenGoesToTheGitHubAPIOnly() {
        let credentials = Credentials(headers: [], for: nil, environment: ["GITHUB_TOKEN": "tok"])
        #expect(Self.authorization(credentials, "https://api.github.com/repos/o/r/actions/artifacts/1/zip") == "Bearer tok")
        #expect(Self.authorization(credentials, "https://API.GitHub.com:443/x") == "Bearer tok")
        for other in ["https://github.com/o/r", "https://objects.githubusercontent.com/blob",
                      "https://pipelines.actions.githubusercontent.com/x", "http://api.github.com/x",
                      "https://api.github.com:8443/x", "https://api.github.com.evil.example/x",
                      "https://downloads.raspberrypi.com/raspios_lite_arm64_latest"] {
            #expect(Self.authorization(credentials, other) == nil, "\(other)")
        }
    }

    @Test func ghTokenWinsAndAnAPIURLAddsItsOrigin() {
        let credentials = Credentials(headers: [], for: nil, environment: ["GITHUB_TOKEN": "a", "GH_TOKEN": "b"],
                                      apiURLs: [Self.url("https://ghe.example/api/v3")])
        #expect(Self.authorization(credentials, "https://api.github.com/x") == "Bearer b")
        #expect(Self.authorization(credentials, "https://ghe.example/api/v3/repos") == "Bearer b")
        #expect(Self.authorization(credentials, "https://ghe.example:444/api/v3/repos") == nil)
        let empty = Credentials(headers: [], for: nil, environment: ["GITHUB_TOKEN": ""])
        #expect(Self.authorization(empty, "https://api.github.com/x") == nil)
    }

    @Test func headersGoToTheirOriginOnlyAndAnAuthorizationHeaderWins() throws {
        let header = try Credentials.parseHeader("Authorization: Bearer mine")
        let credentials = Credentials(headers: [header, ("PRIVATE-TOKEN", "x")], for: Self.url("https://api.github.com/a"),
                                      environment: ["GITHUB_TOKEN": "env"])
        #expect(credentials.headers(for: Self.url("https://api.github.com/b")).map(\.value) == ["Bearer mine", "x"])
        #expect(Self.authorization(credentials, "http://api.github.com/b") == nil)
        #expect(credentials.headers(for: Self.url("https://objects.githubusercontent.com/b")).isEmpty)
        #expect(credentials.sources(for: Self.url("https://api.github.com/b")) == ["--header Authorization, PRIVATE-TOKEN"])
    }

    @Test func originsCompareSchemeHostAndPort() {
        #expect(Origin(Self.url("http://h/a")) == Origin(Self.url("HTTP://H:80/b")))
        #expect(Origin(Self.url("https://h/a")) == Origin(Self.url("https://h:443/")))
        #expect(Origin(Self.url("http://h/a")) != Origin(Self.url("https://h/a")))
        #expect(Origin(Self.url("http://h:8080/a")) != Origin(Self.url("http://h/a")))
    }

    @Test func parseHeaderTakesNameAndValueAndNamesNoValueInErrors() throws {
        let parsed = try Credentials.parseHeader("PRIVATE-TOKEN:   glpat-123 ")
        #expect(parsed.name == "PRIVATE-TOKEN" && parsed.value == "glpat-123")
        #expect(try Credentials.parseHeader("Authorization: Bearer a:b").value == "Bearer a:b")
        for bad in ["Bearer secret-1", ": secret-1", "Range: secret-1", "accept-encoding: secret-1", "Auth orization: secret-1", "X: secret-1\r\nY: z", "X:", "X:   "] {
            #expect(throws: CredentialError.self, "\(bad)") { try Credentials.parseHeader(bad) }
            do { _ = try Credentials.parseHeader(bad) } catch {
                #expect(!"\(error)".contains("secret-1"), "\(error)")
            }
        }
    }

    @Test func netrcIsReadAsCurlReadsIt() {
        let text = """
            # a comment: machine comment.example login x password y
            machine example.com login first password one
            machine Example.COM login second password two
            macdef init
            machine macro.example login no password no

            machine "quoted.example" login "u s" password "p\\"w"
            default login anon password guest
            """
        #expect(Netrc.entry(for: "example.com", text: text) == .init(login: "first", password: "one"))
        #expect(Netrc.entry(for: "quoted.example", text: text) == .init(login: "u s", password: "p\"w"))
        #expect(Netrc.entry(for: "macro.example", text: text) == .init(login: "anon", password: "guest"))
        #expect(Netrc.entry(for: "other", text: text) == .init(login: "anon", password: "guest"))
        #expect(Netrc.entry(for: "other", text: "machine a login b password c") == nil)
        let oneLine = "machine h\n\tlogin l\n\tpassword p\n"
        #expect(Netrc.entry(for: "h", text: oneLine) == .init(login: "l", password: "p"))
    }

    @Test func netrcFromHomeSendsBasicUnlessAHeaderAuthorizes() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("netrc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try Data("machine files.example login user password pass\n".utf8).write(to: home.appendingPathComponent(".netrc"))
        let credentials = Credentials(headers: [], for: nil, environment: ["HOME": home.path])
        #expect(Self.authorization(credentials, "https://files.example:8443/x") == "Basic dXNlcjpwYXNz")
        #expect(Self.authorization(credentials, "https://other.example/x") == nil)
        #expect(credentials.sources(for: Self.url("https://files.example/x")) == ["~/.netrc"])
        let header = Credentials(headers: [("Authorization", "Bearer h")], for: Self.url("https://files.example/x"),
                                 environment: ["HOME": home.path])
        #expect(Self.authorization(header, "https://files.example/y") == "Bearer h")
    }

    @Test func deniedErrorsSayWhichCredentialToSetWithoutValues() throws {
        let api = Self.url("https://api.github.com/repos/o/r/actions/artifacts/1/zip")
        let none = HTTPByteSource.advice(url: api, final: api, credentials: Credentials(headers: [], for: api, environment: [:]))
        #expect(none.contains("no credential was sent"))
        #expect(none.contains("--header 'Authorization: Bearer …'") && none.contains("~/.netrc") && none.contains("GITHUB_TOKEN"))
        let sent = HTTPByteSource.advice(url: api, final: api, credentials: Credentials(
            headers: [("Authorization", "Bearer secret-2")], for: api, environment: ["GITHUB_TOKEN": "secret-3"]))
        #expect(sent.contains("the credential sent (--header Authorization) was not accepted"), "\(sent)")
        #expect(!sent.contains("secret-"))
        let redirected = HTTPByteSource.advice(url: api, final: Self.url("https://blob.example/x?sig=secret-4"),
                                               credentials: Credentials())
        #expect(redirected.contains("https://blob.example:443") && !redirected.contains("secret-4"), "\(redirected)")
        let error = DownloadError.denied(api.absoluteString, 401, advice: none)
        #expect("\(error)".hasPrefix("\(api.absoluteString): HTTP status 401 (authentication required): no credential was sent"))
    }
}
