import Foundation
import Testing
import TestSupport

/// `fpga-lab build-image` with several --config/--output pairs: one base read once, each image
/// byte-identical to the one a separate run makes.
@Suite(.serialized) struct BuildImageBatchIntegrationTests {
    /// The example lab renamed, so every image differs (hostname, manifest, overlay).
    static func labs(in dir: URL, count: Int) throws -> [String] {
        let example = try String(contentsOfFile: Project.exampleLab, encoding: .utf8)
        return try (0..<count).map { index in
            let text = example.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("lab:") ? "lab: batch-\(index)" : String(line)
            }.joined(separator: "\n")
            let path = dir.appendingPathComponent("lab\(index).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    @Test func severalImagesFromOneBaseMatchSeparateRuns() throws {
        let dir = try Project.scratch("batch")
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = try BuildImageIntegrationTests.makeBase(in: dir)
        try ProcessRunner.check("xz", ["-k", "-T1", "-1", raw])
        let base = raw + ".xz"
        let baseSum = try Project.sha256(base)
        let labs = try Self.labs(in: dir, count: 3)
        let outputs = ["batch/a.img", "batch/b.img.xz", "other/c.img"]
        var arguments = ["build-image", "--base", base, "--json"]
        for (lab, output) in zip(labs, outputs) { arguments += ["--config", lab, "--output", output] }
        let batch = try Project.fpgaLab(arguments, in: dir)
        #expect(batch.status == 0, "\(batch.stderr)")
        let summaries = try JSONSerialization.jsonObject(with: Data(batch.stdout.utf8)) as! [[String: Any]]
        #expect(summaries.map { $0["output"] as! String } == outputs)
        let phases = summaries.map { ($0["phaseSeconds"] as! [String: Double]).keys.sorted() }
        #expect(phases[0] == ["bmap", "checksum", "clone", "extract", "patch"], "the base is extracted once, for the first")
        #expect(phases[1] == ["bmap", "checksum", "clone", "compress", "patch"])
        #expect(phases[2] == ["bmap", "checksum", "clone", "patch"])

        for (index, (lab, output)) in zip(labs, outputs).enumerated() {
            let single = "single\(index)/" + URL(fileURLWithPath: output).lastPathComponent
            let run = try Project.fpgaLab(["build-image", "--base", base, "--config", lab, "--output", single], in: dir)
            #expect(run.status == 0, "\(run.stderr)")
            for suffix in ["", ".bmap"] {
                #expect(try Project.sha256(dir.appendingPathComponent(output + suffix).path)
                        == Project.sha256(dir.appendingPathComponent(single + suffix).path), "\(output)\(suffix)")
            }
        }
        #expect(try Project.sha256(dir.appendingPathComponent("batch/a.img").path)
                != Project.sha256(dir.appendingPathComponent("other/c.img").path))
        try ProcessRunner.check("sha256sum", ["-c", "SHA256SUMS"], in: dir.appendingPathComponent("batch"))
        try ProcessRunner.check("sha256sum", ["-c", "SHA256SUMS"], in: dir.appendingPathComponent("other"))
        let sums = try String(contentsOfFile: dir.appendingPathComponent("batch/SHA256SUMS").path, encoding: .utf8)
        #expect(sums.split(separator: "\n").map { $0.split(separator: " ").last! } == ["a.img", "a.img.bmap", "b.img.xz", "b.img.xz.bmap"])
        _ = try BuildImageIntegrationTests.expectClean(dir.appendingPathComponent("other/c.img").path, in: dir)
        for directory in ["batch", "other"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(directory).path)
            #expect(!names.contains { $0.hasPrefix(".") }, "no temporary left: \(names)")
        }
        #expect(try Project.sha256(base) == baseSum, "the base is never modified")
    }

    @Test func pairsMustMatchAndOutputsDiffer() throws {
        let dir = try Project.scratch("batch-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let labs = try Self.labs(in: dir, count: 2)
        let unpaired = try Project.fpgaLab(["build-image", "--base", "none.img", "--config", labs[0], "--config", labs[1],
                                            "--output", "a.img"], in: dir)
        #expect(unpaired.status != 0)
        #expect(unpaired.stderr.contains("2 --config but 1 --output: give one --output per --config, in the same order."), "\(unpaired.stderr)")
        let raw = try BuildImageIntegrationTests.makeBase(in: dir)
        let same = try Project.fpgaLab(["build-image", "--base", raw, "--config", labs[0], "--output", "x/a.img",
                                        "--config", labs[1], "--output", "x/../x/a.img"], in: dir)
        #expect(same.status == 1)
        #expect(same.stderr.contains("x/a.img: two lab configs would write the same output"), "\(same.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x/a.img").path))
    }
}
