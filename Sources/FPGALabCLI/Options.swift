import ArgumentParser
import Artifacts
import Foundation
import LabConfig
import Logging

/// `--config lab.yaml`, shared by every verb that reads a lab config.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The lab config.", valueName: "lab.yaml"))
    var config: String

    /// Loads and validates the config; on errors prints every diagnostic and exits 1.
    func load() throws -> LabFile { try Self.load(config) }

    /// Loads and validates the lab config at `config` (see `load()`).
    static func load(_ config: String) throws -> LabFile {
        do {
            let file = try LabFile.load(path: config)
            for warning in file.warnings { Console.error(warning.description) }
            return file
        } catch let error as LabConfigError {
            for diagnostic in error.diagnostics { Console.error(diagnostic.description) }
            let count = error.errors.count
            Console.error("\(config): invalid: \(count) error\(count == 1 ? "" : "s")")
            throw ExitCode.failure
        } catch {
            Console.error("fpga-lab: error: \(error)")
            throw ExitCode.failure
        }
    }
}

/// `SOURCE_DATE_EPOCH` as reproducible builds define it, or 0.
func sourceDateEpoch() throws -> Int64 {
    guard let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return 0 }
    guard let value = Int64(text), value >= 0 else {
        throw CLIError("SOURCE_DATE_EPOCH=\(text) is not a non-negative number of seconds")
    }
    return value
}

/// A failure with a message for the user; printed as `fpga-lab: error: MESSAGE`.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Results go to stdout, everything else to stderr.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Warnings go through swift-log, so a library can report them the same way.
    static let logger = Logger(label: "fpga-lab") { _ in StderrLogHandler() }

    static func warning(_ line: String) { logger.warning("\(line)") }

    static func output(_ line: String) { print(line) }
}

/// Reads a whole file given on the command line as bytes (any encoding), with a clear error.
func readBytes(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError("\(path): cannot read the \(what)")
    }
    return Array(data)
}

/// What every verb that downloads shares (flash, build-image's --base, inspect's IMAGE):
/// `--header 'Name: value'` (repeatable), which with ~/.netrc and GH_TOKEN/GITHUB_TOKEN makes
/// the download's `Credentials` (no value is ever printed), and the `gh:OWNER/REPO` options:
/// `--api-url`, `--workflow`, `--artifact`.
struct DownloadAuthOptions: ParsableArguments {
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
    func resolve(_ argument: String, timeout: Int) throws -> Resolved {
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
