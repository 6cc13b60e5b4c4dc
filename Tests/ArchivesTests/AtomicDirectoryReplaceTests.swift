import Archives
import Foundation
import Testing

/// `fpga-lab client-recipe` and `render --output-dir` replace whole directories through
/// AtomicOutput: the old tree must survive a failed write and vanish after a good one.
@Suite struct AtomicDirectoryReplaceTests {
    struct Failure: Error {}

    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func replacesAnExistingDirectory() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let destination = base + "/out"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: destination + "/old", contents: Data("old".utf8))
        try AtomicOutput(destination: destination).commit { temporary in
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            _ = FileManager.default.createFile(atPath: temporary + "/new", contents: Data("new".utf8))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["new"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["out"])
    }

    @Test func aFailedWriteKeepsTheOldDirectoryAndLeavesNoTemporary() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let destination = base + "/out"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: destination + "/old", contents: Data("old".utf8))
        #expect(throws: Failure.self) {
            try AtomicOutput(destination: destination).commit { temporary in
                try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
                _ = FileManager.default.createFile(atPath: temporary + "/half", contents: Data())
                throw Failure()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["old"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["out"])
    }
}
