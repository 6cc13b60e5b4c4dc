import Foundation
import Testing

/// The repository, its scripts and the built `fpga-lab`, for tests that run them as a user would.
enum Project {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        let bundle = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return bundle.deletingLastPathComponent().appendingPathComponent("fpga-lab").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs an executable (absolute path or found in PATH, /usr/sbin, /sbin) with separate
    /// stdout and stderr. A missing tool fails the test: CI installs every tool (deps/*.apt).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                    environment extra: [String: String] = [:]) throws -> Result {
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        let executable = tool.hasPrefix("/") ? tool : searchPath.split(separator: ":").map { "\($0)/\(tool)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let executable else {
            Issue.record("\(tool) is not installed (see deps/*.apt)")
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        environment["MTOOLS_SKIP_CHECK"] = "1"
        environment.merge(extra) { $1 }
        process.environment = environment
        let out = Pipe()
        let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errPath.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errPath) }
        let err = try FileHandle(forWritingTo: errPath)
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        let stderrData = try Data(contentsOf: errPath)
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Runs a tool that must succeed; returns its stdout.
    @discardableResult
    static func check(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                      environment: [String: String] = [:]) throws -> String {
        let result = try run(tool, arguments, in: directory, environment: environment)
        guard result.status == 0 else {
            Issue.record("\(tool) \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.stdout)\(result.stderr)")
            throw CocoaError(.executableLoad)
        }
        return result.stdout
    }

    /// `fpga-lab ARGS` with a fixed SOURCE_DATE_EPOCH.
    @discardableResult
    static func fpgaLab(_ arguments: [String], in directory: URL? = nil, epoch: String = "1700000000") throws -> Result {
        try run(binary, arguments, in: directory, environment: ["SOURCE_DATE_EPOCH": epoch])
    }

    static func scratch(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fpga-lab-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func sha256(_ path: String) throws -> String {
        String(try check("sha256sum", [path]).prefix(64))
    }

    static var exampleLab: String { root.appendingPathComponent("examples/lab.yaml").path }
}
