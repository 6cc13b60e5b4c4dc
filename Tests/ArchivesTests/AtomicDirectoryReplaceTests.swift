import Archives
import Foundation
import Testing

/// `fpga-lab client-recipe` and `render --output-dir` replace whole directories through
/// AtomicOutput: the old tree must survive a failed write and vanish after a good one.
@Suite struct AtomicDirectoryReplaceTests {
    struct Failure: Error {}

    /// A scratch directory holding `out/old`: the destination's previous tree. Removed after
    /// `body`, which gets the scratch directory and the destination.
    static func withOldTree(_ body: (_ base: String, _ destination: String) throws -> Void) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let destination = base + "/out"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: destination + "/old", contents: Data("old".utf8))
        try body(base, destination)
    }

    @Test func replacesAnExistingDirectory() throws {
        try Self.withOldTree { (base: String, destination: String) throws in
            try AtomicOutput(destination: destination).commit { temporary in
                try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
                _ = FileManager.default.createFile(atPath: temporary + "/new", contents: Data("new".utf8))
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["new"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["out"])
        }
    }

    @Test func aFailedWriteKeepsTheOldDirectoryAndLeavesNoTemporary() throws {
        try Self.withOldTree { (base: String, destination: String) throws in
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
}
