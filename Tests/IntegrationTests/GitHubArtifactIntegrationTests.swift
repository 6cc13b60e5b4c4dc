import Foundation
import Testing
import TestSupport

/// `gh:OWNER/REPO[#RUN|@ARTIFACT]` against a local pair that behaves like the GitHub REST API
/// and its blob storage: the API wants `Authorization: Bearer TOKEN` (401 without) and answers
/// the repository, workflow-runs and artifacts queries with JSON; the artifact's zip URL
/// answers 302 to a "blob" server on another port that refuses (400) any request carrying an
/// Authorization header. GH_TOKEN reaches the API only and is printed nowhere.
@Suite(.serialized) struct GitHubArtifactIntegrationTests {
    static let token = "ghs_\(UUID().uuidString.prefix(12))"

    /// The API's routes for repository o/r: default branch main; the newest successful run of
    /// build-image.yml on main is 42, whose artifacts are pi-image (7) and logs (8); run 43
    /// holds an expired pi-image (9); artifact 10 is pi-image with a wrong digest.
    static func routes(zipSHA256: String, zipSize: Int) -> [String: String] {
        func artifact(_ id: Int, name: String, run: Int, expired: Bool = false, digest: String) -> String {
            """
            {"id": \(id), "name": "\(name)", "size_in_bytes": \(zipSize), "expired": \(expired), "digest": "sha256:\(digest)",
             "archive_download_url": "{ORIGIN}/repos/o/r/actions/artifacts/\(id)/zip",
             "workflow_run": {"id": \(run), "head_branch": "main", "head_sha": "0123456789abcdef0123456789abcdef01234567"}}
            """
        }
        let wrong = String(repeating: "0", count: 64)
        return [
            "/repos/o/r": #"{"full_name": "o/r", "default_branch": "main"}"#,
            "/repos/o/r/actions/workflows/build-image.yml/runs?branch=main&status=success&per_page=1":
                #"{"total_count": 2, "workflow_runs": [{"id": 42, "head_branch": "main", "conclusion": "success"}]}"#,
            "/repos/o/r/actions/runs/42/artifacts?per_page=100":
                "{\"total_count\": 2, \"artifacts\": [\(artifact(8, name: "logs", run: 42, digest: wrong)), \(artifact(7, name: "pi-image", run: 42, digest: zipSHA256))]}",
            "/repos/o/r/actions/runs/43/artifacts?per_page=100":
                "{\"total_count\": 1, \"artifacts\": [\(artifact(9, name: "pi-image", run: 43, expired: true, digest: zipSHA256))]}",
            "/repos/o/r/actions/artifacts/7": artifact(7, name: "pi-image", run: 42, digest: zipSHA256),
            "/repos/o/r/actions/artifacts/10": artifact(10, name: "pi-image", run: 42, digest: wrong),
        ]
    }

    /// The API (token required, routes, artifact zips redirected) and the blob server holding
    /// `pi-image.zip` in `blobDirectory`.
    static func servers(blob blobDirectory: URL, zip: String) throws -> (api: LocalHTTPServer, blob: LocalHTTPServer) {
        let size = try FileManager.default.attributesOfItem(atPath: zip)[.size] as? Int ?? 0
        let zipSHA256 = try Project.sha256(zip)
        return try LocalHTTPServer.apiAndBlob(blob: blobDirectory, authorization: "Bearer \(token)") { blob, api in
            api.routes = routes(zipSHA256: zipSHA256, zipSize: size)
            api.redirects = Dictionary(uniqueKeysWithValues: [7, 9, 10].map { ("/repos/o/r/actions/artifacts/\($0)/zip", blob.url("pi-image.zip")) })
        }
    }

    @Test func flashInspectAndBuildImageTakeAGitHubArtifact() throws {
        let dir = try Project.scratch("gh-artifact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (zip, image) = try ArtifactZipIntegrationTests.workflowArtifact(in: dir)
        let blobDir = try dir.appendingPathComponent("blob").creatingDirectory()
        try FileManager.default.copyItem(atPath: zip, toPath: blobDir.appendingPathComponent("pi-image.zip").path)
        let (api, blob) = try Self.servers(blob: blobDir, zip: zip)
        defer { api.stop(); blob.stop() }
        let apiURL = "http://127.0.0.1:\(api.port)"

        // The reference: the same zip flashed from its local path.
        let local = dir.appendingPathComponent("local.img").path
        let reference = try Project.fpgaLab(["flash", zip, local], home: dir, token: "")
        #expect(reference.status == 0, "\(reference.stderr)")

        // gh:o/r: the newest successful run on the default branch, its pi-image artifact.
        let target = dir.appendingPathComponent("gh.img").path
        let run = try Project.fpgaLab(["flash", "--api-url", apiURL, "gh:o/r", target], home: dir, token: Self.token)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("gh:o/r: artifact pi-image (id 7, run 42, commit 0123456789ab"), "\(run.stderr)")
        #expect(run.stderr.contains("sha256 \(try Project.sha256(zip)), as the artifact's digest says"), "\(run.stderr)")
        #expect(run.stdout.contains("SHA256SUMS ok"), "\(run.stdout)")
        #expect(try Project.sha256(target) == Project.sha256(local), "the same bytes as flashing the zip itself")
        let raw = dir.appendingPathComponent("raw.img").path
        try ProcessRunner.check("sh", ["-c", "xz -dc '\(image)' > '\(raw)'"])
        let bmapRanges = try FlashFixture.mappedRanges(image + ".bmap")
        #expect(try FlashFixture.sameBytes(target, raw, on: bmapRanges), "every mapped block is the image's")
        #expect(!run.output.contains(Self.token))

        let apiRequests = api.authorizedRequests()
        #expect(apiRequests.map(\.path).contains("/repos/o/r/actions/workflows/build-image.yml/runs?branch=main&status=success&per_page=1"),
                "\(apiRequests.map(\.path))")
        #expect(apiRequests.allSatisfy { $0.authorization }, "every API request carries the token")
        let blobRequests = blob.authorizedRequests()
        #expect(!blobRequests.isEmpty && blobRequests.allSatisfy { !$0.authorization }, "blob storage never gets it")

        // gh:o/r@7 for inspect, gh:o/r#42 for build-image: the same as the local zip.
        let inspected = try Project.fpgaLab(["inspect", "--api-url", apiURL, "gh:o/r@7"], home: dir, token: Self.token)
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("manifest (/etc/fpga-lab/manifest)"), "\(inspected.stdout)")
        for (base, output) in [("gh:o/r#42", "g/pi.img"), (zip, "z/pi.img")] {
            let built = try Project.fpgaLab(["build-image", "--api-url", apiURL, "--config", Project.exampleLab, "--base", base, "--output", output],
                                         home: dir, token: Self.token, in: dir)
            #expect(built.status == 0, "\(built.stderr)")
            #expect(!built.output.contains(Self.token))
        }
        #expect(try Project.sha256(dir.appendingPathComponent("g/pi.img").path)
            == Project.sha256(dir.appendingPathComponent("z/pi.img").path), "same image from gh: as from the zip")
    }

    @Test func refusalsSayWhyAndWriteNothing() throws {
        let dir = try Project.scratch("gh-artifact-refusals")
        defer { try? FileManager.default.removeItem(at: dir) }
        let blobDir = try dir.appendingPathComponent("blob").creatingDirectory()
        // A small zip: the refusals all happen before its image would be read.
        let image = try FlashFixture.makeImage(in: dir)
        try ProcessRunner.check("zip", ["-q", "-0", "-j", blobDir.appendingPathComponent("pi-image.zip").path, image])
        let zip = blobDir.appendingPathComponent("pi-image.zip").path
        let (api, blob) = try Self.servers(blob: blobDir, zip: zip)
        defer { api.stop(); blob.stop() }
        let apiURL = "http://127.0.0.1:\(api.port)"
        let target = dir.appendingPathComponent("target.img").path

        let cases: [(arguments: [String], token: String, message: String)] = [
            (["gh:o/r"], "", "\(apiURL)/repos/o/r: HTTP status 401 (authentication required): no credential was sent; if it needs one, set --header 'Authorization: Bearer …', a ~/.netrc entry (machine 127.0.0.1 login … password …) or GITHUB_TOKEN (GH_TOKEN)"),
            (["gh:o/r"], "wrong", "the credential sent (GH_TOKEN/GITHUB_TOKEN) was not accepted"),
            (["gh:o/r#43"], Self.token, "gh:o/r#43: artifact pi-image (id 9) has expired and can no longer be downloaded"),
            (["--artifact", "firmware", "gh:o/r"], Self.token, "gh:o/r: run 42 has no artifact named firmware (it has: logs, pi-image); choose one with --artifact NAME"),
            (["--workflow", "other.yml", "gh:o/r"], Self.token, "other.yml/runs?branch=main&status=success&per_page=1: HTTP status 404"),
            (["gh:o/r@10"], Self.token, "the download's sha256 is \(try Project.sha256(zip)), not the \(String(repeating: "0", count: 64)) it was pinned to"),
            (["gh:o"], Self.token, "gh:o: not a GitHub artifact reference: expected gh:OWNER/REPO, gh:OWNER/REPO#RUN_ID or gh:OWNER/REPO@ARTIFACT_ID"),
            (["gh:o/r#x1"], Self.token, "gh:o/r#x1: not a GitHub artifact reference: expected a run id after # or an artifact id after @ (digits)"),
        ]
        for (arguments, token, message) in cases {
            let run = try Project.fpgaLab(["flash", "--api-url", apiURL] + arguments + [target], home: dir, token: token)
            #expect(run.status == 1, "\(arguments): \(run.stdout)")
            #expect(run.stderr.contains("fpga-lab: error: ") && run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(!run.output.contains(Self.token) && !run.output.contains("wrong"), "\(arguments): \(run.output)")
            #expect(!FileManager.default.fileExists(atPath: target), "\(arguments): nothing written")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tmp").path)
        #expect(left.isEmpty, "no spooled zip left behind: \(left)")
    }

    @Test func gitLabPrivateTokenGoesToTheAPIOnly() throws {
        let dir = try Project.scratch("gitlab-artifact")
        defer { try? FileManager.default.removeItem(at: dir) }
        let blobDir = try dir.appendingPathComponent("blob").creatingDirectory()
        let image = try FlashFixture.makeImage(in: blobDir)
        // GitLab: /api/v4/projects/ID/jobs/artifacts/REF/raw/PATH?job=NAME with PRIVATE-TOKEN,
        // answered with a redirect to object storage.
        let path = "/api/v4/projects/5/jobs/artifacts/main/raw/pi.img?job=build-image"
        let (api, blob) = try LocalHTTPServer.apiAndBlob(blob: blobDir, authorization: nil) { blob, api in
            api.requireHeader = ("PRIVATE-TOKEN", Self.token)
            api.redirects = [path: blob.url("pi.img")]
        }
        defer { api.stop(); blob.stop() }
        let url = "http://127.0.0.1:\(api.port)\(path)"
        let target = dir.appendingPathComponent("target.img").path

        let denied = try Project.fpgaLab(["flash", url, target], home: dir, token: Self.token)
        #expect(denied.status == 1)
        #expect(denied.stderr.contains("\(url): HTTP status 401"), "\(denied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))

        let run = try Project.fpgaLab(["flash", "--header", "PRIVATE-TOKEN: \(Self.token)", url, target], home: dir, token: "")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Project.sha256(target) == Project.sha256(image))
        #expect(!run.output.contains(Self.token))
        #expect(blob.authorizedRequests().allSatisfy { !$0.authorization })
    }
}
