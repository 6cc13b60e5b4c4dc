import Foundation
import Testing
import TestSupport

/// `fpga-lab build-image` on bases whose boot files are not what the stock image holds (issue
/// 18 items 5-7): files that are not UTF-8, a dwc2 line in the wrong mode, missing files. The
/// example lab is for a Pi 3 B+, a dwc_otg board.
@Suite(.serialized) struct BootFileEditIntegrationTests {
    /// A fresh copy of one stand-in base per case, its boot files changed by `change` (run with
    /// the mtools image argument `IMG@@OFFSET`).
    static func base(in dir: URL, _ name: String, _ change: (String) throws -> Void) throws -> String {
        let shared = dir.appendingPathComponent("base-x86_64.img").path
        if !FileManager.default.fileExists(atPath: shared) { _ = try BuildImageIntegrationTests.makeBase(in: dir) }
        let path = dir.appendingPathComponent("\(name).img").path
        try ProcessRunner.check("cp", ["--sparse=always", shared, path])
        try change("\(path)@@\(try BuildImageIntegrationTests.layout(path).bootOffset)")
        return path
    }

    static func put(_ bytes: [UInt8], as name: String, into image: String, dir: URL) throws {
        let file = dir.appendingPathComponent("put-\(name)")
        try Data(bytes).write(to: file)
        try ProcessRunner.check("mcopy", ["-o", "-i", image, file.path, "::\(name)"])
    }

    static func get(_ name: String, from image: String, dir: URL) throws -> [UInt8] {
        let file = dir.appendingPathComponent("got-\(name)")
        try? FileManager.default.removeItem(at: file)
        try ProcessRunner.check("mcopy", ["-i", "\(image)@@\(try BuildImageIntegrationTests.layout(image).bootOffset)", "::\(name)", file.path])
        return Array(try Data(contentsOf: file))
    }

    /// build-image from `base` to `name`/pi.img in `dir` succeeds, says `warning` on stderr, and
    /// the image's config.txt is `config`.
    static func expectBuilt(from base: String, _ name: String, dir: URL, warning: String, config: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try Project.buildImage(base: base, output: "\(name)/pi.img", in: dir)
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(warning), "\(result.stderr)", sourceLocation: sourceLocation)
        let image = dir.appendingPathComponent("\(name)/pi.img").path
        #expect(String(decoding: try Self.get("config.txt", from: image, dir: dir), as: UTF8.self) == config, sourceLocation: sourceLocation)
    }

    @Test func bootFilesAsTheyCome() throws {
        let dir = try Project.scratch("boot-files")
        defer { try? FileManager.default.removeItem(at: dir) }

        // Item 5: a Latin-1 comment and value come back byte for byte (they became U+FFFD).
        let config: [UInt8] = Array("# r".utf8) + [0xE9] + Array("glages\r\narm_64bit=1\n".utf8)
        let cmdline: [UInt8] = Array("console=tty1 label=caf".utf8) + [0xE9] + Array(" rootwait\n".utf8)
        let latin1 = try Self.base(in: dir, "latin1") { image in
            try Self.put(config, as: "config.txt", into: image, dir: dir)
            try Self.put(cmdline, as: "cmdline.txt", into: image, dir: dir)
        }
        let latin1Result = try Project.buildImage(base: latin1, output: "latin1/pi.img", in: dir)
        #expect(latin1Result.status == 0, "\(latin1Result.stderr)")
        let image = dir.appendingPathComponent("latin1/pi.img").path
        let editedConfig = try Self.get("config.txt", from: image, dir: dir)
        #expect(editedConfig.starts(with: config), "\(editedConfig)")
        #expect(editedConfig.count > config.count)
        #expect(try Self.get("cmdline.txt", from: image, dir: dir)
                == Array("console=tty1 label=caf".utf8) + [0xE9] + Array(" rootwait modules-load=dwc2\n".utf8))

        // Item 6: dwc2 in peripheral mode for every board is overridden for the Pi 3 B+, and said.
        let peripheral = try Self.base(in: dir, "peripheral") { image in
            try Self.put(Array("arm_64bit=1\ndtoverlay=dwc2,dr_mode=peripheral\n".utf8), as: "config.txt", into: image, dir: dir)
        }
        try Self.expectBuilt(from: peripheral, "peripheral", dir: dir,
                             warning: "config.txt in \(peripheral):2: `dtoverlay=dwc2,dr_mode=peripheral` leaves pi3+ with dwc2 in peripheral mode",
                             config: "arm_64bit=1\ndtoverlay=dwc2,dr_mode=peripheral\n\n# fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP\n[pi3+]\ndtoverlay=dwc2,dr_mode=host\n[all]\n")

        // Item 7: no config.txt: created, with a warning.
        let noConfig = try Self.base(in: dir, "no-config") { image in try ProcessRunner.check("mdel", ["-i", image, "::config.txt"]) }
        try Self.expectBuilt(from: noConfig, "no-config", dir: dir,
                             warning: "config.txt in \(noConfig) does not exist; created it with `dtoverlay=dwc2,dr_mode=host` for pi3+",
                             config: "# fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP\n[pi3+]\ndtoverlay=dwc2,dr_mode=host\n[all]\n")

        // Item 7: no cmdline.txt: an error naming the image and the file, no output.
        let noCmdline = try Self.base(in: dir, "no-cmdline") { image in try ProcessRunner.check("mdel", ["-i", image, "::cmdline.txt"]) }
        let result = try Project.buildImage(base: noCmdline, output: "no-cmdline/pi.img", in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("fpga-lab: error: "), "\(result.stderr)")
        #expect(result.stderr.contains("cmdline.txt in \(noCmdline): does not exist, so `modules-load=dwc2` (for pi3+) cannot be added"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("no-cmdline/pi.img").path))
    }
}
