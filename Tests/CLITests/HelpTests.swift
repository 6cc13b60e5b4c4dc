import Testing

/// Help is complete and goes to stdout; usage errors go to stderr with status 64.
@Suite struct HelpTests {
    static let verbs: [(String, [String])] = [
        ("check", ["--config <lab.yaml>"]),
        ("render", ["--config <lab.yaml>", "--output-dir <dir>", "--output <overlay.tar.gz>", "--boot-config <config.txt>",
                    "--boot-cmdline <cmdline.txt>", "--binder <path>", "--templates <dir>", "SOURCE_DATE_EPOCH"]),
        ("build-image", ["--config <lab.yaml>", "--base <image>", "--output <out.img>", "--binder <path>", "--templates <dir>",
                         "--json", "SHA256SUMS"]),
        ("inspect", ["<image>", "never modified"]),
    ]

    @Test func rootHelpListsEveryVerb() throws {
        let result = try FPGALabBinary.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        for (verb, _) in Self.verbs { #expect(result.stdout.contains("  \(verb) "), "\(verb)") }
        #expect(result.stdout.contains("Exit status: 0 success, 1 failure or invalid input, 64 bad command line."))
    }

    @Test(arguments: verbs.map(\.0))
    func verbHelpShowsEveryOption(verb: String) throws {
        let result = try FPGALabBinary.run([verb, "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("OVERVIEW: "))
        for option in Self.verbs.first(where: { $0.0 == verb })!.1 {
            #expect(result.stdout.contains(option), "\(verb): \(option)")
        }
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

    @Test func versionIsPrinted() throws {
        let result = try FPGALabBinary.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "0.1.0\n")
    }
}
