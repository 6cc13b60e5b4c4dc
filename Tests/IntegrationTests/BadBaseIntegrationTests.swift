import Foundation
import Testing
import TestSupport

/// Bad base images: one clear error each, exit status 1, and nothing left in the output
/// directory (no image, no bmap, no SHA256SUMS, no temporary).
@Suite struct BadBaseIntegrationTests {
    /// (name, how to spoil a good base inside `dir` -> the bad base's path, expected error text)
    static let cases: [(String, @Sendable (URL, String) throws -> String, String)] = [
        ("truncated image", { dir, base in
            try ProcessRunner.check("truncate", ["-s", "50M", base]); return base
        }, "past the end of the image"),
        ("no FAT partition", { _, base in
            try ProcessRunner.check("sfdisk", ["--part-type", base, "1", "83"]); return base
        }, "no FAT boot partition"),
        ("partition past the end", { _, base in
            try patch(base, at: 0x1CE + 12, [0xff, 0xff, 0xff, 0x00]); return base
        }, "past the end of the image"),
        ("corrupt ext4 superblock", { _, base in
            let root = try BuildImageIntegrationTests.layout(base).rootOffset
            try patch(base, at: Int(root) + 1024 + 56, [0, 0]); return base
        }, "rootfs"),
        ("zip with two images", { dir, base in
            try ProcessRunner.check("cp", [base, dir.appendingPathComponent("second.img").path])
            try ProcessRunner.check("zip", ["-q", "-j", "two.zip", base, "second.img"], in: dir)
            return dir.appendingPathComponent("two.zip").path
        }, "the zip holds several images"),
        ("truncated xz", { dir, base in
            try ProcessRunner.check("xz", ["-k", "-T1", base])
            let size = try FileManager.default.attributesOfItem(atPath: base + ".xz")[.size] as! Int
            try ProcessRunner.check("truncate", ["-s", "\(size / 2)", base + ".xz"]); return base + ".xz"
        }, "truncated"),
        ("not an image at all", { dir, _ in
            let path = dir.appendingPathComponent("notes.img").path
            try Data("just some text\n".utf8).write(to: URL(fileURLWithPath: path)); return path
        }, "notes.img"),
    ]

    static func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    @Test(arguments: cases.indices)
    func badBaseFailsCleanly(index: Int) throws {
        let (name, spoil, expected) = Self.cases[index]
        try Self.expectSpoiledRefused(name, scratch: "bad-base", base: { try BuildImageIntegrationTests.makeBase(in: $0) },
                                      spoil: spoil, saying: expected)
    }

    /// Case `name`: a good base made by `makeBase` in a new scratch directory, spoiled by
    /// `spoil`, is refused as ``expectRefused(base:in:prefix:saying:_:sourceLocation:)`` says,
    /// the error starting with `prefix(spoiled base)`.
    static func expectSpoiledRefused(_ name: String, scratch: String, base makeBase: (URL) throws -> String,
                                     spoil: (URL, String) throws -> String, saying expected: String,
                                     prefix: (String) -> String = { _ in "fpga-lab: error: " },
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try Project.scratch(scratch)
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try spoil(dir, try makeBase(dir))
        try expectRefused(base: base, in: dir, prefix: prefix(base), saying: expected, name, sourceLocation: sourceLocation)
    }

    /// build-image from `base` fails as a bad base must: exit 1, one error line that starts
    /// with `prefix` and says `expected`, nothing left in OUT, the base unchanged.
    static func expectRefused(base: String, in dir: URL, prefix: String = "fpga-lab: error: ", saying expected: String,
                              _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try Project.sha256(base)
        let result = try Project.buildImage(base: base, output: "out/pi.img", in: dir)
        #expect(result.status == 1, "\(name)", sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix(prefix), "\(name): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(expected), "\(name): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(name): one error line: \(result.stderr)", sourceLocation: sourceLocation)
        let left = Project.listing(dir.appendingPathComponent("out"))
        #expect(left.isEmpty, "\(name): nothing left behind, found \(left)", sourceLocation: sourceLocation)
        #expect(try Project.sha256(base) == before, "\(name): the base is not modified", sourceLocation: sourceLocation)
    }

    @Test func fullBootfsIsAClearError() throws {
        let dir = try Project.scratch("full-bootfs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try BuildImageIntegrationTests.makeBase(in: dir, extra: ["--boot-mib", "16"])
        let layout = try BuildImageIntegrationTests.layout(base)
        // Fill the boot partition up to its last free cluster with one file.
        let listing = try ProcessRunner.check("mdir", ["-i", "\(base)@@\(layout.bootOffset)", "::"]).stdout
        let freeLine = try #require(listing.split(separator: "\n").first { $0.hasSuffix("bytes free") })
        let free = try #require(Int(freeLine.filter(\.isNumber)))
        let filler = dir.appendingPathComponent("filler").path
        try ProcessRunner.check("truncate", ["-s", "\(free)", filler])
        try ProcessRunner.check("mcopy", ["-i", "\(base)@@\(layout.bootOffset)", filler, "::filler"])
        // server.ssh adds two new files (ssh, userconf.txt) to bootfs.
        let lab = try String(contentsOfFile: Project.exampleLab, encoding: .utf8).replacingOccurrences(
            of: "  blacklist: [ftdi_sio]\n",
            with: "  blacklist: [ftdi_sio]\n  ssh: {user: lab, authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host\"]}\n")
        try Data(lab.utf8).write(to: dir.appendingPathComponent("lab.yaml"))
        let result = try Project.fpgaLab(["build-image", "--config", "lab.yaml", "--base", base, "--output", "out/pi.img"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.contains("bootfs: no space for "), "\(result.stderr)")
        #expect(Project.listing(dir.appendingPathComponent("out")).isEmpty)
    }
}
