import Foundation
import Testing
import TestSupport

/// What a verb reads is never what it writes, however the user spells the paths: symlinked
/// directories, hard links, the companions (.bmap, SHA256SUMS). Each refusal comes before
/// anything is opened for writing, and the user's file keeps its bytes.
@Suite(.serialized) struct FileIdentityIntegrationTests {
    /// `dir/same/base.img`, with `dir/samelink` -> `same` and `dir/hard.img` a hard link to it.
    static func baseWithAliases(in dir: URL) throws -> String {
        let base = try BuildImageIntegrationTests.makeBase(in: dir)
        let same = try dir.appendingPathComponent("same").creatingDirectory()
        try FileManager.default.moveItem(atPath: base, toPath: same.appendingPathComponent("base.img").path)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("samelink").path, withDestinationPath: "same")
        try FileManager.default.linkItem(atPath: same.appendingPathComponent("base.img").path,
                                         toPath: dir.appendingPathComponent("hard.img").path)
        return same.appendingPathComponent("base.img").path
    }

    @Test func buildImageRefusesEveryAliasOfTheBase() throws {
        let dir = try Project.scratch("identity-build")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.baseWithAliases(in: dir)
        let before = try Project.sha256(base)
        let lab = Project.exampleLab
        let attempts: [[String]] = [
            ["--base", "samelink/base.img", "--output", "same/base.img"],
            ["--base", "same/base.img", "--output", "samelink/base.img"],
            ["--base", "same/base.img", "--output", "hard.img"],
            ["--base", "same/base.img", "--output", "same/./../samelink/base.img"],
            // OUT's bmap, same/x.img.bmap, is a hard link to the base
            ["--base", "samelink/base.img", "--output", "same/x.img"],
            // a batch: the second output is the base
            ["--base", "same/base.img", "--output", "a.img", "--config", lab, "--output", "samelink/base.img"],
        ]
        try FileManager.default.linkItem(atPath: base, toPath: dir.appendingPathComponent("same/x.img.bmap").path)
        for attempt in attempts {
            let run = try Project.fpgaLab(["build-image", "--config", lab] + attempt, in: dir)
            #expect(run.status == 1, "\(attempt): \(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("would overwrite the base image"), "\(attempt): \(run.stderr)")
            #expect(try Project.sha256(base) == before, "\(attempt)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("a.img").path))
    }

    @Test func buildImageSaysADirectoryBaseIsADirectory() throws {
        let dir = try Project.scratch("identity-dir")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("images"), withIntermediateDirectories: true)
        let run = try Project.buildImage(base: "images", output: "out/pi.img", in: dir)
        #expect(run.status == 1)
        #expect(run.stderr == "fpga-lab: error: images: the base image is a directory; give the image file (.img, .img.xz, .zip, ...)\n", "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
    }

    /// `--base <(cat base.img)`: a raw image through a pipe is read as it streams (it was
    /// "holds no image data": the bytes peeked to tell its kind were lost to a second open).
    @Test func rawBaseThroughAPipe() throws {
        let dir = try Project.scratch("identity-pipe")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try BuildImageIntegrationTests.makeBase(in: dir)
        try Project.buildImage(base: base, output: "file/pi.img", in: dir)
        let piped = try ProcessRunner.run("bash", ["-c", "SOURCE_DATE_EPOCH=1700000000 '\(Project.binary)' build-image --config '\(Project.exampleLab)' --base <(cat '\(base)') --output pipe/pi.img"], in: dir)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(try Project.sha256(dir.appendingPathComponent("pipe/pi.img").path) == Project.sha256(dir.appendingPathComponent("file/pi.img").path))
    }

    @Test func flashRefusesTheSourceAndItsCompanionsAsTarget() throws {
        let dir = try Project.scratch("identity-flash")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try FlashFixture.makeImage(in: dir)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link").path, withDestinationPath: ".")
        let files = ["pi.img.xz", "pi.img.xz.bmap", "pi.img.bmap", "SHA256SUMS"]
        let sums = try files.map { try Project.sha256(dir.appendingPathComponent($0).path) }
        let attempts: [(String, String)] = [
            ("pi.img.xz", "pi.img.xz"), ("pi.img.xz", "link/pi.img.xz"), ("pi.img.xz", "pi.img.xz.bmap"),
            ("pi.img.xz", "link/pi.img.bmap"), ("pi.img.xz", "./SHA256SUMS"), ("link/pi.img.xz", "pi.img.xz"),
        ]
        for (source, target) in attempts {
            let run = try Project.fpgaLab(["flash", source, target], in: dir)
            #expect(run.status == 1, "\(source) -> \(target): \(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("name another target"), "\(run.stderr)")
        }
        // --bmap FILE is read too.
        try FileManager.default.copyItem(atPath: dir.appendingPathComponent("pi.img.bmap").path, toPath: dir.appendingPathComponent("my.bmap").path)
        let run = try Project.fpgaLab(["flash", "--bmap", "my.bmap", "pi.img", "link/my.bmap"], in: dir)
        #expect(run.status == 1 && run.stderr.contains("name another target"), "\(run.stderr)")
        #expect(try files.map { try Project.sha256(dir.appendingPathComponent($0).path) } == sums)
    }

    /// `render --output-dir` and `client-recipe --output` replace a whole directory: never one
    /// holding the run's own config (it was deleted), never a directory of the user's that is not
    /// an earlier output, never the config as a tarball. Earlier outputs and empty directories
    /// are still replaced.
    @Test func directoryOutputsNeverDestroyTheUsersFiles() throws {
        let dir = try Project.scratch("identity-render")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for sub in ["labdir", "home", "empty"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: Project.exampleLab, toPath: dir.appendingPathComponent("labdir/lab.yaml").path)
        try Data("notes\n".utf8).write(to: dir.appendingPathComponent("home/notes.txt"))
        try fm.copyItem(atPath: Project.exampleLab, toPath: dir.appendingPathComponent("lab.tar.gz").path)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("alias").path, withDestinationPath: "labdir")
        let refused: [([String], String)] = [
            (["render", "--config", "labdir/lab.yaml", "--output-dir", "labdir"], "which this run reads"),
            (["render", "--config", "alias/lab.yaml", "--output-dir", "."], "which this run reads"),
            (["client-recipe", "--config", "labdir/lab.yaml", "--output", "labdir"], "which this run reads"),
            (["render", "--config", "lab.tar.gz", "--output", "./lab.tar.gz"], "which this run reads"),
            (["render", "--config", "labdir/lab.yaml", "--output-dir", "home"], "is not an earlier output"),
            (["client-recipe", "--config", "labdir/lab.yaml", "--output", "home"], "is not an earlier output"),
        ]
        let sums = try ["labdir/lab.yaml", "home/notes.txt", "lab.tar.gz"].map { try Project.sha256(dir.appendingPathComponent($0).path) }
        for (arguments, expected) in refused {
            let run = try Project.fpgaLab(arguments, in: dir)
            #expect(run.status == 1, "\(arguments): \(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains(expected), "\(arguments): \(run.stderr)")
        }
        #expect(try ["labdir/lab.yaml", "home/notes.txt", "lab.tar.gz"].map { try Project.sha256(dir.appendingPathComponent($0).path) } == sums)
        for arguments in [["render", "--config", "labdir/lab.yaml", "--output-dir", "empty"],
                          ["render", "--config", "labdir/lab.yaml", "--output-dir", "empty"],
                          ["client-recipe", "--config", "labdir/lab.yaml", "--output", "recipe"],
                          ["client-recipe", "--config", "labdir/lab.yaml", "--output", "recipe"]] {
            let run = try Project.fpgaLab(arguments, in: dir)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
        }
    }
}
