import Foundation
import Testing
import DiskFormats
import Ext4FS
@testable import ImageBuild

@Suite struct PageCacheTests {
    /// Pages of `path` in the page cache, by mincore(2) over a read-only mapping.
    static func residentPages(_ path: String) throws -> Int {
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        var info = stat()
        try #require(fstat(fd, &info) == 0)
        let length = Int(info.st_size)
        let map = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0)
        try #require(map != MAP_FAILED)
        defer { munmap(map, length) }
        var vector = [UInt8](repeating: 0, count: (length + 4095) / 4096)
        try #require(mincore(map, length, &vector) == 0)
        return vector.filter { $0 & 1 != 0 }.count
    }

    /// True when the temporary directory is a tmpfs, whose pages are the files themselves.
    /// (The longest mount point above it in /proc/self/mounts: `device mountpoint type ...`.)
    static let temporaryIsTmpfs: Bool = {
        let directory = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 2 else { continue }
            let point = fields[1]
            let above = directory == point || directory.hasPrefix(point == "/" ? "/" : point + "/")
            if above, point.count > (best?.point.count ?? -1) { best = (point, fields[2]) }
        }
        return best?.type == "tmpfs"
    }()

    /// A written file is in the page cache; once its writeback is done, `drop` takes it out.
    @Test(.disabled(if: temporaryIsTmpfs, "a tmpfs keeps its pages"))
    func dropsAWrittenFileOnceItIsOnDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pagecache-\(UUID().uuidString)").path
        defer { unlink(path) }
        try Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) }).write(to: URL(fileURLWithPath: path))
        #expect(try Self.residentPages(path) == 1024)
        PageCache.startWriteback(of: path)
        let fd = open(path, O_RDONLY)
        #expect(fdatasync(fd) == 0)
        close(fd)
        PageCache.drop(path)
        #expect(try Self.residentPages(path) == 0)
    }

    /// A file that is not there is left alone.
    @Test func ignoresAMissingFile() {
        PageCache.startWriteback(of: "/nonexistent/pagecache")
        PageCache.drop("/nonexistent/pagecache")
    }
}
