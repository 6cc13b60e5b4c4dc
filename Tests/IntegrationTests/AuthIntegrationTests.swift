import Foundation
import Testing
import TestSupport

/// Downloads behind authentication, against a local pair that behaves like the GitHub API and
/// its blob storage: the "API" wants `Authorization: Bearer TOKEN` (401 without) and answers
/// 302 to a "blob" server on another port, which refuses (400) any request carrying an
/// Authorization header and takes Range requests. The token reaches the API only, and is
/// printed nowhere.
@Suite(.serialized) struct AuthIntegrationTests {
    static let token = "T-s3cr3t-\(UUID().uuidString.prefix(8))"

    /// The blob server for `directory` and the API server redirecting `apiPath` to `file` on it.
    static func servers(blob directory: URL, apiPath: String, file: String,
                        authorization: String = "Bearer \(token)", cuts: Int = 0) throws -> (api: LocalHTTPServer, blob: LocalHTTPServer) {
        var blobModes = LocalHTTPServer.Modes(ranges: true)
        if cuts > 0 {
            blobModes.cutAfter = 5_000
            blobModes.cuts = cuts
        }
        return try LocalHTTPServer.apiAndBlob(blob: directory, blobModes: blobModes, authorization: authorization) { blob, api in
            api.redirects = ["/" + apiPath: blob.url(file)]
        }
    }

    static let apiPath = "repos/o/r/actions/artifacts/7/image"

    @Test func flashSendsTheHeaderToTheAPIAndNeverToTheRedirectTarget() throws {
        let dir = try Project.scratch("auth-flash")
        defer { try? FileManager.default.removeItem(at: dir) }
        let blobDir = try dir.appendingPathComponent("blob").creatingDirectory()
        // The raw 64 MiB image: 8 Range requests of 8 MiB, each one through the API's redirect.
        let image = try FlashFixture.makeImage(in: blobDir)
        let (api, blob) = try Self.servers(blob: blobDir, apiPath: Self.apiPath, file: "pi.img")
        defer { api.stop(); blob.stop() }
        let url = api.url(Self.apiPath)

        let target = dir.appendingPathComponent("target.img").path
        let run = try Project.fpgaLab(["flash", "--header", "Authorization: Bearer \(Self.token)", url, target], home: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Project.sha256(target) == Project.sha256(image))
        #expect(!run.output.contains(Self.token), "\(run.output)")
        let blobRequests = blob.authorizedRequests()
        #expect(blobRequests.filter { $0.path == "/pi.img" }.count >= 8, "\(blobRequests.map(\.path))")
        #expect(blobRequests.allSatisfy { !$0.authorization })
        #expect(api.authorizedRequests().allSatisfy { $0.authorization })

        let denied = dir.appendingPathComponent("denied.img").path
        let without = try Project.fpgaLab(["flash", url, denied], home: dir)
        #expect(without.status == 1)
        #expect(without.stderr.contains("fpga-lab: error: \(url): HTTP status 401 (authentication required): no credential was sent"), "\(without.stderr)")
        #expect(without.stderr.contains("--header 'Authorization: Bearer …'") && without.stderr.contains("~/.netrc"), "\(without.stderr)")
        #expect(!without.output.contains(Self.token))
        let deniedBytes = (try? Data(contentsOf: URL(fileURLWithPath: denied))) ?? Data()
        #expect(deniedBytes.isEmpty, "nothing written without the token")

        let wrong = try Project.fpgaLab(["flash", "--header", "Authorization: Bearer wrong-\(Self.token.suffix(4))x", url, denied], home: dir)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("the credential sent (--header Authorization) was not accepted"), "\(wrong.stderr)")
        #expect(!wrong.output.contains("wrong-"))
    }

    @Test func buildImageBaseURLWithAHeaderGivesTheSameBytesAsTheFile() throws {
        let dir = try Project.scratch("auth-build")
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = try ArtifactURLIntegrationTests.servedBase(in: dir)
        let (api, blob) = try Self.servers(blob: dir.appendingPathComponent("srv/images"), apiPath: "raspios_lite_arm64_latest",
                                           file: ArtifactURLIntegrationTests.dated, cuts: 2)
        defer { api.stop(); blob.stop() }
        let url = api.url("raspios_lite_arm64_latest")
        // The blob cuts the first two bodies: the download resumes with Range requests, each
        // through the API (with the token) and its redirect (without).

        let fromURL = try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", url,
                                        "--header", "Authorization: Bearer \(Self.token)", "--output", "u/pi.img", "--json"],
                                       home: dir, in: dir)
        #expect(fromURL.status == 0, "\(fromURL.stderr)")
        #expect(fromURL.stdout.contains("\"baseSha256\" : \"\(try Project.sha256(served))\""), "\(fromURL.stdout)")
        #expect(!fromURL.output.contains(Self.token))
        let fromFile = try Project.buildImage(base: served, output: "f/pi.img", in: dir)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try Project.sha256(dir.appendingPathComponent("u/pi.img").path) == Project.sha256(dir.appendingPathComponent("f/pi.img").path))
        let blobRequests = blob.authorizedRequests()
        #expect(blobRequests.count >= 3, "\(blobRequests.map(\.path))")
        #expect(blobRequests.allSatisfy { !$0.authorization })
        #expect(api.authorizedRequests().count >= 3)

        let without = try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", url, "--output", "n/pi.img"],
                                       home: dir, in: dir)
        #expect(without.status == 1)
        #expect(without.stderr.contains("\(url): HTTP status 401 (authentication required)"), "\(without.stderr)")
        #expect(without.stderr.contains("--header 'Authorization: Bearer …'"))
        #expect(!without.output.contains(Self.token))
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("n").path)) ?? []
        #expect(left.isEmpty, "nothing left behind: \(left)")
    }

    /// ~/.netrc (HOME from the environment) sends Basic auth to its machine; inspect URL.
    @Test func netrcAuthenticatesInspect() throws {
        let dir = try Project.scratch("auth-netrc")
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = try ArtifactURLIntegrationTests.servedBase(in: dir)
        let password = "pw-\(Self.token)"
        let basic = "Basic " + Data("lab:\(password)".utf8).base64EncodedString()
        let (api, blob) = try Self.servers(blob: dir.appendingPathComponent("srv/images"), apiPath: "latest",
                                           file: ArtifactURLIntegrationTests.dated, authorization: basic)
        defer { api.stop(); blob.stop() }
        let url = api.url("latest")
        let home = try dir.appendingPathComponent("home").creatingDirectory()

        let without = try Project.fpgaLab(["inspect", url], home: home)
        #expect(without.status == 1)
        #expect(without.stderr.contains("\(url): HTTP status 401"), "\(without.stderr)")

        try Data("machine other.example login x password y\nmachine 127.0.0.1\n  login lab\n  password \(password)\n".utf8)
            .write(to: home.appendingPathComponent(".netrc"))
        let run = try Project.fpgaLab(["inspect", url], home: home)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("sha256 \(try Project.sha256(served))"), "\(run.stdout)")
        #expect(!run.output.contains(password))
        #expect(blob.authorizedRequests().allSatisfy { !$0.authorization })
        #expect(!blob.authorizedRequests().isEmpty)
    }

    @Test func aMalformedHeaderIsAValidationErrorThatHidesTheValue() throws {
        let dir = try Project.scratch("auth-bad-header")
        defer { try? FileManager.default.removeItem(at: dir) }
        for verb in [["flash", "http://127.0.0.1:9/x", "t.img"], ["inspect", "http://127.0.0.1:9/x"],
                     ["build-image", "--config", Project.exampleLab, "--base", "http://127.0.0.1:9/x", "--output", "o/pi.img"]] {
            let run = try Project.fpgaLab(verb + ["--header", "Bearer \(Self.token)"], home: dir, in: dir)
            #expect(run.status == 64, "\(verb[0]): \(run.status) \(run.stderr)")
            #expect(run.stderr.contains("--header (#1): expected 'Name: value'"), "\(run.stderr)")
            #expect(!run.output.contains(Self.token), "\(run.output)")
        }
    }
}
