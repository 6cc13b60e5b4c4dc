import Foundation
import Testing
import TestSupport

/// The zip the example CI workflow uploads (pi-image.zip: pi.img.xz, pi.img.xz.bmap,
/// SHA256SUMS) is read by inspect and build-image through the one zip member policy.
@Suite(.serialized) struct ArtifactZipIntegrationTests {
    /// build-image of a stand-in base into `dir/out`, zipped as upload-artifact does (stored).
    static func workflowArtifact(in dir: URL) throws -> (zip: String, image: String) {
        let base = try BuildImageIntegrationTests.makeBase(in: dir)
        try ProcessRunner.check(Project.binary, ["build-image", "--config", Project.exampleLab, "--base", base, "--output", "out/pi.img.xz"],
                          in: dir, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        let out = dir.appendingPathComponent("out")
        let zip = dir.appendingPathComponent("pi-image.zip").path
        try ProcessRunner.check("zip", ["-q", "-0", zip, "pi.img.xz", "pi.img.xz.bmap", "SHA256SUMS"], in: out)
        return (zip, out.appendingPathComponent("pi.img.xz").path)
    }

    @Test func inspectAndBuildImageTakeTheWorkflowsZip() throws {
        let dir = try Project.scratch("artifact-zip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (zip, image) = try Self.workflowArtifact(in: dir)

        let fromZip = try Project.fpgaLab(["inspect", zip])
        #expect(fromZip.status == 0, "\(fromZip.stderr)")
        let fromFile = try Project.fpgaLab(["inspect", image])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromZip.stdout.contains("manifest (/etc/fpga-lab/manifest)"))
        // The same report but for the name on the first line.
        #expect(fromZip.stdout.split(separator: "\n").dropFirst() == fromFile.stdout.split(separator: "\n").dropFirst())

        for (base, output) in [(zip, "z/pi.img"), (image, "f/pi.img")] {
            let run = try Project.fpgaLab(["build-image", "--config", Project.exampleLab, "--base", base, "--output", output], in: dir)
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(try Project.sha256(dir.appendingPathComponent("z/pi.img").path)
            == Project.sha256(dir.appendingPathComponent("f/pi.img").path), "same bytes from the zip as from the file")
    }

    @Test func aZipWithoutAnImageNamesItOnce() throws {
        let dir = try Project.scratch("artifact-zip-empty")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("x".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        try ProcessRunner.check("zip", ["-q", "pi-image.zip", "notes.txt"], in: dir)
        for arguments in [["inspect", "pi-image.zip"],
                          ["build-image", "--config", Project.exampleLab, "--base", "pi-image.zip", "--output", "out/pi.img"]] {
            let run = try Project.fpgaLab(arguments, in: dir)
            #expect(run.status == 1)
            #expect(run.stderr.hasPrefix("fpga-lab: error: pi-image.zip: the zip holds no image"), "\(run.stderr)")
            #expect(run.stderr.components(separatedBy: "pi-image.zip").count == 2, "the path once: \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/pi.img").path))
    }
}
