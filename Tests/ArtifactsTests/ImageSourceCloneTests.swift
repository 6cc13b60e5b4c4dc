@testable import Artifacts
import SystemIO
import Foundation
import Testing

/// ImageSource.clone copies the data extents of a sparse image and nothing else.
struct ImageSourceCloneTests {
    @Test func cloneKeepsBytesAndHoles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clone-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("source.img").path, copy = dir.appendingPathComponent("copy.img").path
        // 64 MiB with data at 1 MiB (8 KiB), at 40 MiB (1 MiB, a pattern) and a hole up to the end.
        let fd = open(source, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let small = [UInt8](repeating: 0xA5, count: 8192)
        let pattern = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(small.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 1 << 20) } == 8192)
        #expect(pattern.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 40 << 20) } == 1 << 20)
        #expect(ftruncate(fd, 64 << 20) == 0)
        close(fd)

        #expect(try ImageSource.clone(source, to: copy) == 64 << 20)
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: URL(fileURLWithPath: source)))
        var info = stat()
        #expect(stat(copy, &info) == 0)
        #expect(info.st_size == 64 << 20)
        #expect(Int(info.st_blocks) * 512 <= 4 << 20, "the holes stay holes: \(info.st_blocks) blocks allocated")
    }

    @Test func cloneOfAMissingFileNamesIt() {
        #expect(throws: ImageSourceError.read("/nonexistent/base.img", Errno(ENOENT))) {
            try ImageSource.clone("/nonexistent/base.img", to: "/tmp/never-written.img")
        }
    }
}
