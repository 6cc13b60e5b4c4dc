import Foundation
import Testing
import TestSupport

/// Which usbip-binder render bakes into a `daemon: binder` lab's overlay: --binder, else the
/// build of --arch (default armv6) in --binder-dir (default: the installed builds).
@Suite struct RenderBinderTests {
    static let lab = BadConfigTests.good

    /// A builds directory with a distinct fake executable per architecture present.
    static func builds(in dir: URL, _ archs: [String]) throws {
        for arch in archs {
            let sub = dir.appendingPathComponent("builds/\(arch)")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try Data("\u{7f}ELF-\(arch)".utf8).write(to: sub.appendingPathComponent("usbip-binder"))
        }
    }

    static func baked(_ dir: URL, _ output: String) -> String? {
        FileManager.default.contents(atPath: dir.appendingPathComponent("\(output)/usr/local/sbin/usbip-binder").path)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func armv6ByDefaultAndSaysSo() throws {
        try FPGALabBinary.withLab(Self.lab) { dir in
            try Self.builds(in: dir, ["aarch64", "armv6"])
            let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "o", "--binder-dir", "builds"], in: dir)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.baked(dir, "o") == "\u{7f}ELF-armv6")
            #expect(result.stderr == "render: baking in builds/armv6/usbip-binder (ARMv6: runs on every Pi, 32- or 64-bit Raspberry Pi OS; --arch aarch64 for the 64-bit build)\n")
        }
    }

    @Test(arguments: [("aarch64", "aarch64"), ("arm64", "aarch64"), ("armhf", "armv6"), ("x86_64", "x86_64"), ("amd64", "x86_64")])
    func archPicksItsBuild(arch: String, build: String) throws {
        try FPGALabBinary.withLab(Self.lab) { dir in
            try Self.builds(in: dir, ["aarch64", "armv6", "x86_64"])
            let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "o", "--binder-dir", "builds", "--arch", arch], in: dir)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.baked(dir, "o") == "\u{7f}ELF-\(build)")
            #expect(result.stderr == "")
        }
    }

    @Test func aMissingBuildOfTheArchIsAnError() throws {
        try FPGALabBinary.withLab(Self.lab) { dir in
            try Self.builds(in: dir, ["armv6"])
            let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "o", "--binder-dir", "builds", "--arch", "aarch64"], in: dir)
            #expect(result.status == 1)
            #expect(result.stderr == "fpga-lab: error: builds/aarch64/usbip-binder: no usbip-binder build for --arch aarch64 (`make binder` builds them; or give --binder PATH)\n")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
        }
    }

    @Test(arguments: [["--arch", "sparc"], ["--arch", "aarch64", "--binder", "b"]])
    func badArchIsAUsageError(extra: [String]) throws {
        let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "o"] + extra, lab: Self.lab)
        #expect(result.status == 64)
    }

    @Test func usbipdLabsBakeNothingIn() throws {
        let usbipd = Self.lab.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  daemon: usbipd\n")
        try FPGALabBinary.withLab(usbipd) { dir in
            try Self.builds(in: dir, ["armv6"])
            let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "o", "--binder-dir", "builds"], in: dir)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.baked(dir, "o") == nil)
            #expect(!result.stderr.contains("baking in"))
        }
    }
}

/// A one-character output name: Foundation's deletingLastPathComponent trapped on it (Swift 6.3,
/// Linux), so `render --output-dir o` crashed with SIGILL before PathText.
@Suite struct OneCharacterOutputTests {
    @Test func renderIntoADirectoryNamedO() throws {
        try FPGALabBinary.withLab(BadConfigTests.good) { dir in
            let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "o", "--binder-dir", "none"], in: dir)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == "o: 17 entries\n")
        }
    }
}
