import Foundation
import Testing
import TestSupport

/// Runs the built `fpga-lab` executable (it sits beside the test bundle) as a user would.
enum FPGALabBinary {
    static var path: String { ProcessRunner.builtProduct("fpga-lab") }

    static func run(_ arguments: [String], in directory: URL? = nil, environment extra: [String: String] = [:]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(path, arguments, in: directory, environment: extra)
    }

    /// A new empty directory for one test.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fpga-lab-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `body` run in a new scratch directory that holds `lab.yaml` with `text`; the directory
    /// is removed afterwards.
    static func withLab<T>(_ text: String, _ body: (URL) throws -> T) throws -> T {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(text.utf8).write(to: dir.appendingPathComponent("lab.yaml"))
        return try body(dir)
    }

    /// `fpga-lab ARGS` in a new scratch directory that holds `lab.yaml` with `text`.
    static func run(_ arguments: [String], lab text: String) throws -> ProcessRunner.Result {
        try withLab(text) { try run(arguments, in: $0) }
    }
}
