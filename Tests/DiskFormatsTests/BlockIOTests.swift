@testable import DiskFormats
import SystemIO
import Foundation
import Testing

@Suite("ImageFile")
struct BlockIOTests {
    static func tempPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("blockio-\(UUID().uuidString).img").path
    }

    @Test func readWriteAtOffsets() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data([0, 1, 2, 3, 4, 5, 6, 7]))
        let file = try ImageFile(path: path, writable: true)
        #expect(file.size == 8)
        #expect(try file.read(at: 2, count: 3) == [2, 3, 4])
        try file.write([0xAA, 0xBB], at: 6)
        try file.write([0xCC], at: 10)
        #expect(file.size == 11)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([0, 1, 2, 3, 4, 5, 0xAA, 0xBB, 0, 0, 0xCC]))
    }

    @Test func errors() throws {
        let path = Self.tempPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        let file = try ImageFile(path: path, writable: false)
        #expect(throws: ImageFileError.shortRead(path: path, offset: 1, wanted: 4, got: 2)) {
            try file.read(at: 1, count: 4)
        }
        #expect(throws: ImageFileError.readOnly(path: path)) { try file.write([0], at: 0) }
        #expect(throws: ImageFileError.open(path: path + ".missing", errno: Errno(ENOENT))) {
            try ImageFile(path: path + ".missing", writable: false)
        }
        #expect("\(ImageFileError.open(path: "/x", errno: Errno(ENOENT)))" == "cannot open /x: No such file or directory")
    }
}
