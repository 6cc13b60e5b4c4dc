import Foundation
import Testing

extension ProcessRunner {
    /// A program the test starts and leaves running while it works (a server under test, a
    /// `watch` loop), the counterpart of `run` for what does not end by itself. stdout and
    /// stderr go to one log file (interleaved as written), readable at any time as `output`;
    /// stdin is empty. `stop` (also on deinit) SIGKILLs it: children of the test runner
    /// inherit a signal mask that blocks SIGTERM.
    public final class Background: @unchecked Sendable {
        public let command: String
        private let process = Process()
        private let log: URL

        /// `standardError`, when given, takes stderr instead of the log (a pseudo-terminal, for
        /// a program that draws progress only on a terminal).
        public init(_ tool: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                    standardError: FileHandle? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
            command = ProcessRunner.commandLine(tool, arguments)
            guard let executable = ProcessRunner.find(tool) else {
                Issue.record("\(tool) is not installed (see deps/*.apt): \(command)", sourceLocation: sourceLocation)
                throw Failure(description: "\(tool) is not installed")
            }
            log = FileManager.default.temporaryDirectory.appendingPathComponent("background-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            process.environment = ProcessInfo.processInfo.environment.merging(baseEnvironment) { $1 }.merging(environment) { $1 }
            let out = try FileHandle(forWritingTo: log)
            defer { try? out.close() }
            process.standardOutput = out
            process.standardError = standardError ?? out
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        deinit {
            stop()
            try? FileManager.default.removeItem(at: log)
        }

        public var pid: Int32 { process.processIdentifier }
        /// After the end: whether a signal ended it, and which (`status` is then the signal).
        public var endedBySignal: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }
        public var isRunning: Bool { process.isRunning }

        /// What it printed so far.
        public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

        /// Sends `signal` (a clean shutdown request, e.g. SIGTERM when the program unblocks it).
        public func signal(_ signal: Int32) { if process.isRunning { kill(process.processIdentifier, signal) } }

        /// SIGKILL and reap: the program vanishes as on a crash or power loss.
        public func stop() {
            signal(SIGKILL)
            process.waitUntilExit()
        }

        /// Waits for the end (bounded by `timeout`, a hang guard) and returns the exit status.
        public func wait(timeout: TimeInterval = Wait.hangGuard, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int32 {
            try Wait.until("\(command) ended", timeout: timeout, context: { self.output }, sourceLocation: sourceLocation) { !process.isRunning }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
