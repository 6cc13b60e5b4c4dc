import Foundation
import Testing
import TestSupport

/// Scratch files and the fsck.fat check for the FAT and MBR tests (the tools run through
/// ProcessRunner).
enum FATTools {
    /// A sparse file of `bytes` bytes.
    static func makeFile(_ path: String, bytes: UInt64) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
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
        let result = try ProcessRunner.run("fsck.fat", ["-n", "-V", target], mergeStderr: true)
        #expect(result.status == 0, "fsck.fat -n exited \(result.status):\n\(result.output)")
        for word in ["wrong", "Wrong", "corrupt", "invalid", "Invalid", "Orphan", "differ", "Reclaimed", "Auto-correcting", "unchanged", "bad", "Bad"] {
            #expect(!result.output.contains(word), "fsck.fat -n reports \(word):\n\(result.output)")
        }
    }
}
