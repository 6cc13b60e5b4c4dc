import Foundation
import Testing
import TestSupport

/// The repository, its scripts and the built `fpga-lab`, for tests that run them as a user would.
enum Project {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String { ProcessRunner.builtProduct("fpga-lab") }

    /// Runs an executable (absolute path or found in PATH, /usr/sbin, /sbin) with separate
    /// stdout and stderr. A missing tool fails the test: CI installs every tool (deps/*.apt).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: URL? = nil,
                    environment extra: [String: String] = [:]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(tool, arguments, in: directory,
                              environment: ["LC_ALL": "C.UTF-8", "MTOOLS_SKIP_CHECK": "1"].merging(extra) { $1 })
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
    static func fpgaLab(_ arguments: [String], in directory: URL? = nil, epoch: String = "1700000000") throws -> ProcessRunner.Result {
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
