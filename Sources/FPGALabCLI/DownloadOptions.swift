import ArgumentParser
import Artifacts
import Foundation

/// What every verb that downloads shares (flash, build-image's --base, inspect's IMAGE):
/// `--timeout SECONDS`; `--header 'Name: value'` (repeatable), which with ~/.netrc and
/// GH_TOKEN/GITHUB_TOKEN makes the download's `Credentials` (no value is ever printed); and the
/// `gh:OWNER/REPO` options: `--api-url`, `--workflow`, `--artifact`.
struct DownloadOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Give up a download when no byte has arrived for this many seconds.", valueName: "seconds"))
    var timeout = HTTPByteSource.defaultTimeout

    @Option(name: .customLong("header"), help: ArgumentHelp(
        "An HTTP header for a download, e.g. 'Authorization: Bearer TOKEN' or 'PRIVATE-TOKEN: TOKEN' (repeatable). Sent to the URL's own origin (scheme, host, port) only, never after a redirect to another one; never printed.",
        valueName: "'name: value'"))
    var headers: [String] = []

    @Option(name: .customLong("api-url"), help: ArgumentHelp(
        "The GitHub REST API that resolves gh:OWNER/REPO (GitHub Enterprise: https://HOST/api/v3). GH_TOKEN or GITHUB_TOKEN is sent to it.",
        valueName: "url"))
    var apiURL = Credentials.defaultGitHubAPI.absoluteString

    @Option(name: .long, help: ArgumentHelp("The workflow whose newest successful run on the default branch gh:OWNER/REPO takes.", valueName: "file"))
    var workflow = GitHubArtifactResolver.defaultWorkflow

    @Option(name: .long, help: ArgumentHelp("The artifact of the run that gh:OWNER/REPO takes.", valueName: "name"))
    var artifact = GitHubArtifactResolver.defaultArtifactName

    func validate() throws {
        if timeout < 1 { throw ValidationError("--timeout \(timeout): expected a whole number of seconds, at least 1.") }
        for (index, header) in headers.enumerated() {
            do {
                _ = try Credentials.parseHeader(header)
            } catch let error as CredentialError {
                throw ValidationError("--header (#\(index + 1)): \(error.description).")
            }
        }
        guard case .url(let url) = Location(apiURL), url.host?.isEmpty == false else {
            throw ValidationError("--api-url \(apiURL): expected an http(s) URL, e.g. https://api.github.com.")
        }
        guard !workflow.isEmpty, !workflow.contains("/") else {
            throw ValidationError("--workflow \(workflow): expected a workflow file name (build-image.yml) or id.")
        }
        guard !artifact.isEmpty else { throw ValidationError("--artifact: expected an artifact name.") }
    }

    /// A download argument with what it is fetched with: `argument` is the path or URL to read
    /// (a `gh:` reference resolved to its zip's URL), `sha256` the zip's digest when the API
    /// gave one, `note` one line on what was resolved.
    struct Resolved {
        var argument: String
        var credentials: Credentials
        var sha256: String?
        var note: String?
    }

    /// Resolves `argument`: a path or URL as it is, `gh:OWNER/REPO[#RUN|@ARTIFACT]` through the
    /// GitHub API.
    func resolve(_ argument: String) throws -> Resolved {
        let parsed = try headers.map(Credentials.parseHeader)
        let environment = ProcessInfo.processInfo.environment
        let api = URL(string: apiURL) ?? Credentials.defaultGitHubAPI
        guard GitHubArtifactReference.isReference(argument) else {
            let url: URL? = if case .url(let url) = Location(argument) { url } else { nil }
            return Resolved(argument: argument, credentials: Credentials(headers: parsed, for: url, environment: environment, apiURLs: [api]))
        }
        let reference = try GitHubArtifactReference(parsing: argument)
        let credentials = Credentials(headers: parsed, for: api, environment: environment, apiURLs: [api])
        let resolver = GitHubArtifactResolver(apiURL: api, workflow: workflow, artifactName: artifact,
                                              credentials: credentials, timeout: timeout)
        let found = try resolver.resolve(reference)
        return Resolved(argument: found.downloadURL.absoluteString, credentials: resolver.credentials, sha256: found.sha256,
                        note: "\(reference): \(found.summary)")
    }
}
