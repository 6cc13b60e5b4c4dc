import Testing

/// Help is complete and goes to stdout; usage errors go to stderr with status 64.
@Suite struct HelpTests {
    /// Every verb and what its help must name (options, and words a user looks for).
    static let verbs: [(String, [String])] = [
        ("check", ["--config <lab.yaml>"]),
        ("render", ["--config <lab.yaml>", "--output-dir <dir>", "--output <overlay.tar.gz>", "--boot-config <config.txt>",
                    "--boot-cmdline <cmdline.txt>", "--binder <path>", "--templates <dir>", "SOURCE_DATE_EPOCH"]),
        ("build-image", ["--config <lab.yaml>", "--base <image>", "--output <out.img>", "--binder <path>", "--templates <dir>",
                         "--json", "SHA256SUMS", "--base-sha256 <hex>", "--header <'name: value'>", "--api-url <url>", "gh:OWNER/REPO"]),
        ("inspect", ["<image>", "never modified", "--header <'name: value'>", "gh:OWNER/REPO"]),
        ("flash", ["<source>", "<target>", "--bmap <file>", "--timeout <seconds>", "--header <'name: value'>", "--api-url <url>",
                   "--workflow <file>", "--artifact <name>", "--no-verify", "--force", "--dry-run", "gh:OWNER/REPO"]),
        ("list", ["--server <host[:port]>", "--config <lab.yaml>", "--json", "in use by ADDRESS:PORT"]),
        ("attach", ["<names>", "--all", "--config <lab.yaml>", "--server <host[:port]>", "--dead-peer-timeout <s>"]),
        ("detach", ["--all"]),
        ("status", ["--json"]),
        ("watch", ["--config <lab.yaml>", "--interval", "--dead-peer-timeout <s>"]),
        ("client-recipe", ["--config <lab.yaml>", "--output"]),
    ]

    /// The verbs the root help lists under SUBCOMMANDS, in order.
    static func listedVerbs(_ help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        var verbs: [String] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("  ") else { break }
            let word = line.drop(while: { $0 == " " }).prefix(while: { $0 != " " })
            if !word.isEmpty, line.dropFirst(2).first != " " { verbs.append(String(word)) }
        }
        return verbs
    }

    @Test func rootHelpListsEveryVerb() throws {
        let result = try FPGALabBinary.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(Set(Self.listedVerbs(result.stdout)) == Set(Self.verbs.map(\.0)), "\(result.stdout)")
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
