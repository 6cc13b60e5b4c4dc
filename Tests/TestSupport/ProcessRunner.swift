import Foundation
import Testing

/// Runs a program to its end, as the tests run the real tools (mkfs, fsck, mtools, sfdisk ...)
/// and the built `fpga-lab`, and collects what it printed.
public enum ProcessRunner {
    /// How a run ended and what it printed.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        /// Empty when the run merged stderr into stdout.
        public var stderr: String

        /// Both streams: stdout then stderr (as written, when the run merged them).
        public var output: String { stdout + stderr }
    }

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

    /// Runs `tool` (see ``find(_:)``) with `arguments`, in `directory` when given, with the test's
    /// environment and `environment` over it, and `input` (or nothing) on its stdin. stdout and
    /// stderr go through temporary files, so neither can fill a pipe and stall the tool;
    /// `mergeStderr` sends both to one file, interleaved as written. A tool still running after
    /// `timeout` seconds is terminated and fails the test. A tool that is not found fails the
    /// test: CI installs every tool (deps/*.apt).
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:], input: String? = nil, mergeStderr: Bool = false,
                           timeout: TimeInterval? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        guard let executable = find(tool) else {
            Issue.record("\(tool) is not installed (see deps/*.apt)", sourceLocation: sourceLocation)
            throw CocoaError(.fileNoSuchFile)
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
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = try FileHandle(forWritingTo: outURL)
        let err = mergeStderr ? out : try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        try out.close()
        if !mergeStderr { try err.close() }
        if let stdin {
            stdin.fileHandleForWriting.write(Data((input ?? "").utf8))
            try stdin.fileHandleForWriting.close()
        }
        var timedOut = false
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            timedOut = process.isRunning
            if timedOut { process.terminate() }
        }
        process.waitUntilExit()
        let result = Result(status: process.terminationStatus,
                            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
        try #require(!timedOut, "\(tool) still ran after \(Int(timeout ?? 0)) s:\n\(result.output)", sourceLocation: sourceLocation)
        return result
    }
}
