import Foundation
import Testing
import TestSupport
@testable import FPGALabCLI

/// Help is complete and goes to stdout; usage errors go to stderr with status 64.
///
/// The help of the root command and of every verb is golden: Golden/help/<verb>.txt, compared
/// byte for byte (80 columns). UPDATE_GOLDEN=1 rewrites them after a deliberate change; read
/// the diff as a user would (every option once, the same words for the same option).
@Suite struct HelpTests {
    static let golden = GoldenDirectory(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"))

    /// Every verb, in the root help's order.
    static let verbs = FPGALab.configuration.subcommands.map { $0.configuration.commandName ?? "\($0)" }

    /// `fpga-lab [VERB] --help` as a user sees it on an 80-column terminal.
    static func help(_ verb: String?) throws -> String {
        let result = try FPGALabBinary.run((verb.map { [$0] } ?? []) + ["--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0, "\(verb ?? "fpga-lab"): \(result.stderr)")
        #expect(result.stderr == "")
        return result.stdout
    }

    @Test func helpIsGolden() throws {
        var files: [(path: String, bytes: [UInt8])] = []
        for verb in [nil] + Self.verbs.map(Optional.some) {
            files.append(("\(verb ?? "fpga-lab").txt", Array(try Self.help(verb).utf8)))
        }
        try Self.golden.check(files: files, case: "help")
    }

    /// The golden root help is only right if it names every verb; a verb left out of
    /// `subcommands` would be left out of both.
    @Test func everyVerbHasAFile() throws {
        let verbFiles = try FileManager.default.contentsOfDirectory(atPath: Self.golden.root.appendingPathComponent("help").path)
            .filter { $0 != "fpga-lab.txt" }.map { String($0.dropLast(4)) }
        #expect(Set(verbFiles) == Set(Self.verbs))
        #expect(Self.verbs.count == 11)
    }

    /// `help VERB` is the same text as `VERB --help`.
    @Test func helpVerbMatchesVerbHelp() throws {
        let result = try FPGALabBinary.run(["help", "render"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0)
        #expect(result.stdout == (try Self.help("render")))
    }

    @Test func usageErrorsGoToStderr() throws {
        let result = try FPGALabBinary.run(["render", "--config", "lab.yaml"])
        #expect(result.status == 64)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("Error: Give exactly one of --output-dir DIR or --output FILE.\n"))
    }

    /// Failures of the client verbs read like every other verb's, not like usage errors.
    @Test func clientVerbFailuresSayFpgaLabError() throws {
        let result = try FPGALabBinary.run(["list"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "fpga-lab: error: no server: give --server HOST[:PORT] or --config lab.yaml\n")
    }

    /// `--version` prints the version make gave this build (Sources/CBuildVersion/version.generated.h,
    /// from scripts/version.sh), or says the build was given none.
    @Test func versionIsTheOneTheBuildWasGiven() throws {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/CBuildVersion/version.generated.h")
        let given = (try? String(contentsOf: header, encoding: .utf8))
            .flatMap { $0.firstMatch(of: /#define FPGA_LAB_BUILD_VERSION "([^"]+)"/)?.1 }.map(String.init)
        let result = try FPGALabBinary.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == (given ?? "unversioned") + "\n")
    }
}
