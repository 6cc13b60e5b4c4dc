import Foundation
import Testing
import TestSupport

/// The repository, its scripts and the built `fpga-lab`, for tests that run them as a user would.
enum Project {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String { ProcessRunner.builtProduct("fpga-lab") }

    /// `fpga-lab ARGS` with a fixed SOURCE_DATE_EPOCH.
    @discardableResult
    static func fpgaLab(_ arguments: [String], in directory: URL? = nil, epoch: String = "1700000000") throws -> ProcessRunner.Result {
        try ProcessRunner.run(binary, arguments, in: directory, environment: ["SOURCE_DATE_EPOCH": epoch])
    }

    /// `fpga-lab build-image` of the example lab from `base` to `output`, in `directory`.
    @discardableResult
    static func buildImage(base: String, output: String, in directory: URL) throws -> ProcessRunner.Result {
        try fpgaLab(["build-image", "--config", exampleLab, "--base", base, "--output", output], in: directory)
    }

    /// `fpga-lab ARGS` as a user without credentials would run it: HOME at `home` (no
    /// ~/.netrc unless the test writes one), TMPDIR at `home/tmp` (where a downloaded zip is
    /// spooled), GH_TOKEN set to `token` ("" for none) and no GITHUB_TOKEN.
    static func fpgaLab(_ arguments: [String], home: URL, token: String = "", in directory: URL? = nil) throws -> ProcessRunner.Result {
        let temporary = try home.appendingPathComponent("tmp").creatingDirectory()
        return try ProcessRunner.run(binary, arguments, in: directory, environment: [
            "HOME": home.path, "TMPDIR": temporary.path, "GH_TOKEN": token, "GITHUB_TOKEN": "", "SOURCE_DATE_EPOCH": "1700000000",
        ])
    }

    static func scratch(_ name: String) throws -> URL {
        let url = try FileManager.default.temporaryDirectory.appendingPathComponent("fpga-lab-\(name)-\(UUID().uuidString)").creatingDirectory()
        return url
    }

    /// The names in `dir`, sorted; none when it does not exist.
    static func listing(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    static func sha256(_ path: String) throws -> String {
        String(try ProcessRunner.check("sha256sum", [path]).stdout.prefix(64))
    }

    static var exampleLab: String { root.appendingPathComponent("examples/lab.yaml").path }
}

extension URL {
    /// Creates the directory (and parents) and returns it.
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
