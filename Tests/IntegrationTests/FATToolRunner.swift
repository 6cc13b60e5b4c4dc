import Foundation
import Testing
import TestSupport

/// Runs the real dosfstools / mtools / util-linux programs for the FAT and MBR tests.
enum FATTools {
    /// Runs `tool` (in PATH, /usr/sbin or /sbin) with `arguments` and optional standard input;
    /// stderr is merged into stdout (`output`). A missing tool fails the test (CI installs it,
    /// see deps/fat.apt).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> ProcessRunner.Result {
        try ProcessRunner.run(tool, arguments, environment: ["MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C.UTF-8"],
                              input: input, mergeStderr: true)
    }

    /// Runs a tool and fails the test unless it exits 0.
    @discardableResult
    static func check(_ tool: String, _ arguments: [String], input: String? = nil) throws -> String {
        let result = try run(tool, arguments, input: input)
        #expect(result.status == 0, "\(tool) \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.output)")
        return result.output
    }

    /// A fresh temporary directory, removed by the caller with `remove`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fat-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A sparse file of `bytes` bytes.
    static func makeFile(_ path: String, bytes: UInt64) throws {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: bytes)
        try handle.close()
    }

    /// `fsck.fat -n` on the volume (at `offset` bytes into `path`, copied out when non-zero):
    /// expects exit 0 and none of the words dosfstools uses for problems.
    static func expectClean(_ path: String, offset: UInt64 = 0, length: UInt64 = 0) throws {
        var target = path
        if offset != 0 {
            target = path + ".part"
            let image = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            try image.seek(toOffset: offset)
            let data = try image.read(upToCount: Int(length)) ?? Data()
            try data.write(to: URL(fileURLWithPath: target))
        }
        defer { if offset != 0 { try? FileManager.default.removeItem(atPath: target) } }
        let result = try run("fsck.fat", ["-n", "-V", target])
        #expect(result.status == 0, "fsck.fat -n exited \(result.status):\n\(result.output)")
        for word in ["wrong", "Wrong", "corrupt", "invalid", "Invalid", "Orphan", "differ", "Reclaimed", "Auto-correcting", "unchanged", "bad", "Bad"] {
            #expect(!result.output.contains(word), "fsck.fat -n reports \(word):\n\(result.output)")
        }
    }
}
