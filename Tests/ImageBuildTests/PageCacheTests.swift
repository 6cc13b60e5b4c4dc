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
    /// (How many pages stay cached is up to the kernel, which may evict some under memory
    /// pressure or keep a few busy ones: the test asserts bounds, not an exact count.)
    @Test(.disabled(if: temporaryIsTmpfs, "a tmpfs keeps its pages"))
    func dropsAWrittenFileOnceItIsOnDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pagecache-\(UUID().uuidString)").path
        defer { unlink(path) }
        try Self.pattern.write(to: URL(fileURLWithPath: path))
        let written = try Self.residentPages(path)
        #expect(written > 0 && written <= 1024, "\(written) of 1024 pages cached after the write")
        PageCache.startWriteback(of: path)
        let fd = open(path, O_RDONLY)
        #expect(fdatasync(fd) == 0)
        close(fd)
        PageCache.drop(path)
        let dropped = try Self.residentPages(path)
        #expect(dropped < written, "drop left \(dropped) of \(written) pages")
        #expect(dropped <= 1024 / 8, "drop left \(dropped) of \(written) pages")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Self.pattern)
    }

    /// `drop` before the writeback loses nothing: dirty pages stay until written.
    @Test func dropBeforeWritebackKeepsTheBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pagecache-\(UUID().uuidString)").path
        defer { unlink(path) }
        try Self.pattern.write(to: URL(fileURLWithPath: path))
        PageCache.drop(path)
        PageCache.startWriteback(of: path)
        PageCache.drop(path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Self.pattern)
    }

    /// A file that is not there is left alone: not created.
    @Test func ignoresAMissingFile() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pagecache-missing-\(UUID().uuidString)").path
        PageCache.startWriteback(of: path)
        PageCache.drop(path)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// 4 MiB that are not all one byte.
    static let pattern = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) })
}
