@testable import DiskFormats
@testable import Ext4FS
@testable import ImageBuild
import Foundation
import Testing
import TestSupport

/// A rootfs that runs out of room, and one that is not clean (issue 18, items 11 and 19).
@Suite(.serialized) struct Ext4LimitsIntegrationTests {
    /// An 8 MiB rootfs cannot take a 16 MiB file: the error says the file system is full and
    /// names the file, instead of "Unknown code ext2 72".
    @Test func fullRootfsSaysSoAndNamesThePath() throws {
        let dir = try Project.scratch("ext4-full")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"], megabytes: 8)
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        let huge = [UInt8](repeating: 0xA5, count: 16 << 20)
        let error = #expect(throws: Ext4Error.self) {
            try volume.writeFile("usr/local/sbin/huge.bin", bytes: huge, mode: 0o755, uid: 0, gid: 0, mtime: fixedTime)
        }
        #expect(error == .full(path: "usr/local/sbin/huge.bin", resource: "blocks", operation: "ext2fs_file_write"))
        let text = error?.description ?? ""
        #expect(text.contains("the file system is full"), "\(text)")
        #expect(text.contains("/usr/local/sbin/huge.bin"), "\(text)")
        #expect(!text.contains("Unknown code"), "\(text)")
    }

    /// Running out of inodes is the same error, naming the file that found none.
    @Test func rootfsWithoutFreeInodesSaysSo() throws {
        let dir = try Project.scratch("ext4-inodes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096", "-N", "64"], megabytes: 8)
        let volume = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true, now: fixedTime)
        var failure: Ext4Error?
        for index in 0..<200 {
            do {
                try volume.writeFile("etc/many/\(index)", bytes: [], mode: 0o644, uid: 0, gid: 0, mtime: fixedTime)
            } catch let error as Ext4Error {
                failure = error
                break
            }
        }
        let error = try #require(failure)
        guard case .full(let path, "inodes", _) = error else {
            Issue.record("expected a full filesystem (inodes), got \(error)")
            return
        }
        #expect(error.description.contains("the file system is full (no free inodes left) writing '/\(path)'"), "\(error)")
    }

    /// Unknown codes of libext2fs still read as words: com_err knows the ext2 table.
    @Test func otherLibext2fsCodesReadAsWords() {
        // 2133571347 is EXT2_ET_BAD_MAGIC.
        let error = Ext4Error.library(operation: "op", path: "p", code: 2_133_571_347, message: Ext4Error.message(2_133_571_347))
        #expect(!error.description.contains("Unknown code"), "\(error)")
        #expect(error.description.contains("Bad magic number in super-block"), "\(error)")
    }

    /// A rootfs whose superblock says "not clean, with errors" is refused for writing, like one
    /// whose journal needs recovery, and is left as it was.
    @Test(arguments: ["2", "0"])
    func uncleanRootfsIsRefused(state: String) throws {
        let dir = try Project.scratch("ext4-unclean")
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: ["-b", "4096"], megabytes: 8)
        try ProcessRunner.check("debugfs", ["-w", "-R", "ssv state \(state)", "\(image)?offset=\(Ext4Tools.partitionOffset)"])
        let before = try Project.sha256(image)
        let error = #expect(throws: Ext4Error.self) {
            _ = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: true)
        }
        #expect(error == .notClean(state: UInt16(state)!))
        let text = error?.description ?? ""
        #expect(text.contains(state == "2" ? "has errors" : "was not cleanly unmounted"), "\(text)")
        #expect(text.contains("e2fsck -f"), "\(text)")
        #expect(try Project.sha256(image) == before)
        // Reading it (inspect) stays possible.
        _ = try Ext4Volume(imagePath: image, offset: Ext4Tools.partitionOffset, writable: false)
    }
}
