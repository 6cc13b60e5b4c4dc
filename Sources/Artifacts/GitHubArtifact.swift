import Foundation

/// `gh:OWNER/REPO`, `gh:OWNER/REPO#RUN_ID`, `gh:OWNER/REPO@ARTIFACT_ID`: a GitHub Actions
/// artifact named by its repository, resolved through the REST API to the URL of its zip:
///
/// ```
/// gh:OWNER/REPO
///   GET {api}/repos/OWNER/REPO                                    -> default_branch
///   GET {api}/repos/OWNER/REPO/actions/workflows/WORKFLOW/runs
///         ?branch=DEFAULT&status=success&per_page=1               -> the newest successful run
///   GET {api}/repos/OWNER/REPO/actions/runs/RUN/artifacts?per_page=100
///         -> the artifact named NAME (default pi-image)
/// gh:OWNER/REPO#RUN        the last two steps, for that run
/// gh:OWNER/REPO@ARTIFACT   GET {api}/repos/OWNER/REPO/actions/artifacts/ARTIFACT
/// then
///   GET archive_download_url  (…/actions/artifacts/ID/zip) -> 302 to blob storage
/// ```
///
/// Every API request carries `Accept: application/vnd.github+json` and the credentials for the
/// API's origin (GH_TOKEN/GITHUB_TOKEN, `--header`, ~/.netrc); the redirect to blob storage
/// goes without them (HTTPByteSource's origin rule). An expired artifact, a run without the
/// named artifact, a workflow without a successful run on the default branch: each is an
/// error that says so, never a fallback to another artifact.
public struct GitHubArtifactReference: Equatable, Sendable, CustomStringConvertible {
    public enum Selector: Equatable, Sendable {
        /// The newest successful run of the workflow on the default branch.
        case newest
        case run(Int64)
        case artifact(Int64)
    }

    public let owner: String
    public let repository: String
    public let selector: Selector

    /// Whether `argument` is meant as a `gh:` reference (then `init` must parse it, or the
    /// user gets its error).
    public static func isReference(_ argument: String) -> Bool { argument.hasPrefix("gh:") }

    /// Parses `gh:OWNER/REPO[#RUN_ID|@ARTIFACT_ID]`.
    public init(parsing argument: String) throws {
        guard Self.isReference(argument) else { throw GitHubArtifactError.syntax(argument, "it does not start with gh:") }
        var rest = Substring(argument.dropFirst(3))
        var selector = Selector.newest
        if let mark = rest.firstIndex(where: { $0 == "#" || $0 == "@" }) {
            let number = rest[rest.index(after: mark)...]
            guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber), let id = Int64(number), id > 0 else {
                throw GitHubArtifactError.syntax(argument, "expected a run id after # or an artifact id after @ (digits)")
            }
            selector = rest[mark] == "#" ? .run(id) : .artifact(id)
            rest = rest[..<mark]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        // GitHub's names: owners [A-Za-z0-9-], repositories [A-Za-z0-9._-].
        let ownerCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        let repositoryCharacters = ownerCharacters.union("._")
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 39, parts[0].allSatisfy(ownerCharacters.contains),
              !parts[1].isEmpty, parts[1].count <= 100, parts[1].allSatisfy(repositoryCharacters.contains),
              parts[1] != ".", parts[1] != ".." else {
            throw GitHubArtifactError.syntax(argument, "expected gh:OWNER/REPO, gh:OWNER/REPO#RUN_ID or gh:OWNER/REPO@ARTIFACT_ID")
        }
        owner = String(parts[0])
        repository = String(parts[1])
        self.selector = selector
    }

    public var description: String {
        switch selector {
        case .newest: "gh:\(owner)/\(repository)"
        case .run(let id): "gh:\(owner)/\(repository)#\(id)"
        case .artifact(let id): "gh:\(owner)/\(repository)@\(id)"
        }
    }
}

/// A `gh:` reference resolved: the zip's URL and what it is.
public struct GitHubArtifact: Equatable, Sendable {
    public var id: Int64
    public var name: String
    public var sizeInBytes: Int64?
    /// The run that made it, when the API said.
    public var runID: Int64?
    public var headSHA: String?
    /// `archive_download_url`: the API URL that redirects to the zip in blob storage.
    public var downloadURL: URL
    /// The zip's sha256 (hex) when the API gives its `digest` (`sha256:HEX`).
    public var sha256: String?
    /// Past its retention: the zip is gone.
    public var expired = false

    /// One line for the user: which artifact of which run.
    public var summary: String {
        var text = "artifact \(name) (id \(id)"
        if let runID { text += ", run \(runID)" }
        if let headSHA { text += ", commit \(headSHA.prefix(12))" }
        if let sizeInBytes { text += ", \(sizeInBytes) bytes" }
        return text + ")"
    }
}

/// Resolves `gh:` references through the GitHub REST API at `apiURL`.
public struct GitHubArtifactResolver: Sendable {
    public static let defaultWorkflow = "build-image.yml"
    public static let defaultArtifactName = "pi-image"

    public var apiURL: URL
    /// The workflow file (or its numeric id) whose runs `gh:OWNER/REPO` looks at.
    public var workflow: String
    /// The artifact to take from a run.
    public var artifactName: String
    public var credentials: Credentials
    public var timeout: Int

    /// `credentials` should be made for `apiURL` (its `--header` values and token go to the
    /// API's origin); the resolver adds GitHub's Accept and API version headers.
    public init(apiURL: URL = Credentials.defaultGitHubAPI, workflow: String = defaultWorkflow,
                artifactName: String = defaultArtifactName, credentials: Credentials, timeout: Int = HTTPByteSource.defaultTimeout) {
        self.apiURL = apiURL
        self.workflow = workflow
        self.artifactName = artifactName
        var credentials = credentials
        credentials.headerOrigin = Origin(apiURL)
        credentials.protocolHeaders = [("Accept", "application/vnd.github+json"), ("X-GitHub-Api-Version", "2022-11-28")]
        self.credentials = credentials
        self.timeout = timeout
    }

    /// The artifact `reference` names; fails naming the reference and what the API said.
    public func resolve(_ reference: GitHubArtifactReference) throws -> GitHubArtifact {
        let repo = "repos/\(reference.owner)/\(reference.repository)"
        switch reference.selector {
        case .artifact(let id):
            let object = try get("\(repo)/actions/artifacts/\(id)", reference)
            return try Self.usable(Self.artifact(object, reference), reference)
        case .run(let id):
            return try artifact(ofRun: id, repo: repo, reference)
        case .newest:
            let repository = try get(repo, reference)
            guard let branch = repository["default_branch"] as? String, !branch.isEmpty else {
                throw GitHubArtifactError.api(reference.description, "\(repo): the reply names no default_branch")
            }
            let runs = try get("\(repo)/actions/workflows/\(Self.pathComponent(workflow))/runs",
                               query: [("branch", branch), ("status", "success"), ("per_page", "1")], reference)
            guard let list = runs["workflow_runs"] as? [[String: Any]] else {
                throw GitHubArtifactError.api(reference.description, "the workflow runs reply holds no workflow_runs list")
            }
            guard let run = list.first, let id = Self.integer(run["id"]) else {
                throw GitHubArtifactError.noRun(reference.description, workflow: workflow, branch: branch)
            }
            return try artifact(ofRun: id, repo: repo, reference)
        }
    }

    private func artifact(ofRun run: Int64, repo: String, _ reference: GitHubArtifactReference) throws -> GitHubArtifact {
        let reply = try get("\(repo)/actions/runs/\(run)/artifacts", query: [("per_page", "100")], reference)
        guard let list = reply["artifacts"] as? [[String: Any]] else {
            throw GitHubArtifactError.api(reference.description, "the run's artifacts reply holds no artifacts list")
        }
        let artifacts = try list.map { try Self.artifact($0, reference) }
        guard let found = artifacts.first(where: { $0.name == artifactName }) else {
            throw GitHubArtifactError.noArtifact(reference.description, run: run, name: artifactName, names: artifacts.map(\.name))
        }
        var artifact = try Self.usable(found, reference)
        if artifact.runID == nil { artifact.runID = run }
        return artifact
    }

    /// Refuses an expired artifact: its zip is gone.
    static func usable(_ artifact: GitHubArtifact, _ reference: GitHubArtifactReference) throws -> GitHubArtifact {
        guard !artifact.expired else { throw GitHubArtifactError.expired(reference.description, id: artifact.id, name: artifact.name) }
        return artifact
    }

    /// An artifact object of the API.
    static func artifact(_ object: [String: Any], _ reference: GitHubArtifactReference) throws -> GitHubArtifact {
        guard let id = integer(object["id"]), let name = object["name"] as? String,
              let text = object["archive_download_url"] as? String, let url = URL(string: text),
              url.scheme == "https" || url.scheme == "http" else {
            throw GitHubArtifactError.api(reference.description, "an artifact in the reply lacks id, name or archive_download_url")
        }
        var sha256: String?
        if let digest = object["digest"] as? String {
            let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)).lowercased() : ""
            guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw GitHubArtifactError.api(reference.description, "artifact \(id): digest \(digest.prefix(80)) is not sha256:HEX")
            }
            sha256 = hex
        }
        let run = object["workflow_run"] as? [String: Any]
        return GitHubArtifact(id: id, name: name, sizeInBytes: integer(object["size_in_bytes"]),
                              runID: run.flatMap { integer($0["id"]) }, headSHA: run?["head_sha"] as? String,
                              downloadURL: url, sha256: sha256, expired: object["expired"] as? Bool == true)
    }

    /// GET `{api}/PATH?QUERY` as a JSON object.
    private func get(_ path: String, query: [(String, String)] = [], _ reference: GitHubArtifactReference) throws -> [String: Any] {
        var components = URLComponents(url: apiURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components.url else { throw GitHubArtifactError.api(reference.description, "cannot form the URL for \(path)") }
        let source = try HTTPByteSource(url: url, timeout: timeout, credentials: credentials)
        var bytes: [UInt8] = []
        try source.forEachChunk(bufferSize: 1 << 16) { chunk, _ in
            bytes += chunk
            guard bytes.count <= 16 << 20 else { throw DownloadError.transfer(url.absoluteString, "an API reply larger than 16 MiB") }
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw GitHubArtifactError.api(reference.description, "\(url.absoluteString): the reply is not a JSON object (is --api-url the GitHub API?)")
        }
        return object
    }

    static func integer(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        let whole = number.int64Value
        return Double(whole) == number.doubleValue ? whole : nil
    }

    /// A workflow file name as one path component.
    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// Why a `gh:` reference could not be resolved. Names the reference; never a credential.
public enum GitHubArtifactError: Error, Equatable, CustomStringConvertible {
    case syntax(String, String)
    case api(String, String)
    case noRun(String, workflow: String, branch: String)
    case noArtifact(String, run: Int64, name: String, names: [String])
    case expired(String, id: Int64, name: String)

    public var description: String {
        switch self {
        case let .syntax(argument, reason): "\(argument): not a GitHub artifact reference: \(reason)"
        case let .api(reference, reason): "\(reference): \(reason)"
        case let .noRun(reference, workflow, branch):
            "\(reference): workflow \(workflow) has no successful run on \(branch) (another workflow: --workflow FILE; another run: \(reference)#RUN_ID)"
        case let .noArtifact(reference, run, name, names):
            "\(reference): run \(run) has no artifact named \(name)"
                + (names.isEmpty ? " (it has none)" : " (it has: \(names.joined(separator: ", "))); choose one with --artifact NAME")
        case let .expired(reference, id, name):
            "\(reference): artifact \(name) (id \(id)) has expired and can no longer be downloaded; run the workflow again"
        }
    }
}
