import Foundation
import Testing

/// The one way the tests run a program to its end: the real tools (mkfs, fsck, mtools, sfdisk,
/// zip, qemu ...) and the built `fpga-lab`. `run` returns how any run ended; `check` is for a
/// run that must succeed and fails the test with the command line, its status and its stderr
/// when it does not.
public enum ProcessRunner {
    /// How a run ended and what it printed.
    public struct Result: Sendable {
        /// The command line, shell-quoted where needed, for messages.
        public var command: String
        public var status: Int32
        public var stdout: String
        /// Empty when the run merged stderr into stdout.
        public var stderr: String

        /// Both streams: stdout then stderr (as written, when the run merged them).
        public var output: String { stdout + stderr }

        /// "COMMAND exited STATUS:" and what it printed, stderr first.
        public var failureDescription: String {
            "\(command) exited \(status):\n\(stderr)\(stderr.isEmpty || stdout.isEmpty ? "" : "--- stdout:\n")\(stdout)"
        }
    }

    /// The error `check` throws after it recorded the failure as an issue.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Every run's environment over the test's: messages in the C locale's words with UTF-8,
    /// and mtools without its geometry check (the FAT tests make volumes of any size).
    public static let baseEnvironment = ["LC_ALL": "C.UTF-8", "MTOOLS_SKIP_CHECK": "1"]

    /// The executable `tool` names: `tool` itself when it holds a `/`, else the first match in
    /// PATH, /usr/sbin and /sbin.
    public static func find(_ tool: String) -> String? {
        if tool.contains("/") { return tool }
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        return searchPath.split(separator: ":").map { "\($0)/\(tool)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A product of this package's build (`fpga-lab`): it sits beside the test bundle.
    public static func builtProduct(_ name: String) -> String {
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// `tool` and `arguments` as one shell-quoted line.
    public static func commandLine(_ tool: String, _ arguments: [String]) -> String {
        ([tool] + arguments).map { word in
            word.isEmpty || word.contains(where: { " \t\n'\"\\$`*?;&|<>(){}[]!#~".contains($0) })
                ? "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'" : word
        }.joined(separator: " ")
    }

    /// Runs `tool` (see ``find(_:)``) with `arguments`, in `directory` when given, with the test's
    /// environment, ``baseEnvironment`` and `environment` over it, and `input` (or nothing) on
    /// its stdin; returns however it ended. stdout and stderr go through temporary files, so
    /// neither can fill a pipe and stall the tool; `mergeStderr` sends both to one file,
    /// interleaved as written. A tool still running after `timeout` seconds (a hang guard, not
    /// a speed check) is killed and fails the test. A tool that is not found fails the test:
    /// CI installs every tool (deps/*.apt).
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:], input: String? = nil, mergeStderr: Bool = false,
                           timeout: TimeInterval? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let command = commandLine(tool, arguments)
        guard let executable = find(tool) else {
            Issue.record("\(tool) is not installed (see deps/*.apt): \(command)", sourceLocation: sourceLocation)
            throw Failure(description: "\(tool) is not installed")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(baseEnvironment) { $1 }.merging(environment) { $1 }
        let out = try FileHandle(forWritingTo: outURL)
        let err = mergeStderr ? out : try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        try process.run()
        try out.close()
        if !mergeStderr { try err.close() }
        if let stdin {
            stdin.fileHandleForWriting.write(Data((input ?? "").utf8))
            try stdin.fileHandleForWriting.close()
        }
        var timedOut = false
        if let timeout, ended.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let result = Result(command: command, status: process.terminationStatus,
                            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
        try #require(!timedOut, "\(command) still ran after \(Int(timeout ?? 0)) s:\n\(result.output)", sourceLocation: sourceLocation)
        return result
    }

    /// ``run(_:_:in:environment:input:mergeStderr:timeout:sourceLocation:)`` for a run that must
    /// exit 0: any other status fails the test with the command line and what it printed, and
    /// throws ``Failure``.
    @discardableResult
    public static func check(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                             environment: [String: String] = [:], input: String? = nil, mergeStderr: Bool = false,
                             timeout: TimeInterval? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let result = try run(tool, arguments, in: directory, environment: environment, input: input,
                             mergeStderr: mergeStderr, timeout: timeout, sourceLocation: sourceLocation)
        guard result.status == 0 else {
            Issue.record(Comment(rawValue: result.failureDescription), sourceLocation: sourceLocation)
            throw Failure(description: result.failureDescription)
        }
        return result
    }
}
