import Foundation
import Testing

/// Every verb, handed a directory, a missing path or a non-UTF-8 file where it reads a file:
/// exit status 1 and exactly one `fpga-lab: error:` line naming the path; never a crash
/// (`inspect DIR` died on a `try!` inside FileHandle with SIGILL and a backtrace).
@Suite struct HostileInputTests {
    static let invocations: [[String]] = [
        ["inspect", "PATH"],
        ["check", "--config", "PATH"],
        ["render", "--config", "PATH", "--output", "out.tar.gz"],
        ["build-image", "--config", "PATH", "--base", "base.img", "--output", "out/pi.img"],
        ["client-recipe", "--config", "PATH", "--output", "recipe"],
        ["flash", "PATH", "target.img"],
    ]

    @Test(arguments: invocations.indices, ["dir", "missing", "latin1"])
    func oneErrorLine(index: Int, kind: String) throws {
        let dir = try FPGALabBinary.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("input.img").path
        switch kind {
        case "dir": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        case "latin1": try Data([0x6c, 0x61, 0x62, 0x3a, 0x20, 0xe9, 0x0a]).write(to: URL(fileURLWithPath: path))
        default: break
        }
        try Data().write(to: dir.appendingPathComponent("base.img"))
        let arguments = Self.invocations[index].map { $0 == "PATH" ? path : $0 }
        // flash writes any raw bytes it is given (a 7-byte image is an image to it).
        if arguments[0] == "flash" && kind == "latin1" { return }
        let run = try FPGALabBinary.run(arguments, in: dir)
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(run.status == 1, "\(arguments): \(run.stderr)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("crashed"), "\(arguments): \(run.stderr)")
        // check reports config problems as FILE:LINE:COL lines, then its verdict: each names the path.
        if arguments[0] == "check" || kind == "latin1" {
            #expect(lines.allSatisfy { $0.contains(path) || $0.hasPrefix("fpga-lab: error:") }, "\(arguments): \(run.stderr)")
        } else {
            #expect(lines.count == 1, "\(arguments): \(run.stderr)")
            #expect(lines.first?.hasPrefix("fpga-lab: error: ") == true, "\(arguments): \(run.stderr)")
            #expect(lines.first?.contains(path) == true, "\(arguments): \(run.stderr)")
        }
    }

    /// Numbers a verb cannot use: a usage error naming the option (exit 64), never a crash
    /// (`list --timeout 1e12` and `--timeout inf` died converting to poll's milliseconds).
    @Test(arguments: [
        ["list", "--server", "10.255.255.1", "--timeout", "1e12"],
        ["list", "--server", "10.255.255.1", "--timeout", "inf"],
        ["list", "--server", "10.255.255.1", "--timeout", "nan"],
        ["list", "--server", "10.255.255.1", "--timeout", "0"],
        ["attach", "board", "--config", "lab.yaml", "--timeout", "-1"],
        ["watch", "--config", "lab.yaml", "--interval", "nan"],
    ])
    func numbersOutOfRange(arguments: [String]) throws {
        let dir = try FPGALabBinary.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try FPGALabBinary.run(arguments, in: dir)
        #expect(run.status == 64, "\(arguments): \(run.stderr)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("crashed"), "\(arguments): \(run.stderr)")
        #expect(run.stderr.contains(arguments[arguments.count - 2]), "\(arguments): \(run.stderr)")
    }
}
