@testable import DiskFormats
import SystemIO
import Foundation
import Testing

/// DataExtents walks a real sparse file on the test machine's file system: data written at
/// known 4 KiB-aligned offsets, holes everywhere else.
struct DataExtentsTests {
    /// A file of `size` bytes with 0x5A bytes in `data` and holes elsewhere; the extents found
    /// in it, walked twice (each walk starts at offset 0).
    private func extents(size: Int64, data: [Range<Int64>]) throws -> [Range<Int64>] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("extents-\(UUID().uuidString).img").path
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        for range in data {
            let bytes = [UInt8](repeating: 0x5A, count: Int(range.count))
            #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(range.lowerBound)) } == range.count)
        }
        #expect(ftruncate(fd, off_t(size)) == 0)
        let extents = DataExtents(fd: fd, size: size)
        let first = Array(extents)
        #expect(Array(extents) == first)
        return first
    }

    @Test func findsDataBetweenHolesAndIgnoresATrailingHole() throws {
        let data: [Range<Int64>] = [(1 << 20)..<((1 << 20) + (64 << 10)), (3 << 20)..<(4 << 20)]
        #expect(try extents(size: 8 << 20, data: data) == data)
    }

    @Test func lastExtentEndsAtTheSizeWhenTheFileEndsInData() throws {
        let data: [Range<Int64>] = [0..<(64 << 10), (5 << 20)..<(8 << 20)]
        #expect(try extents(size: 8 << 20, data: data) == data)
    }

    @Test func aFileOfOneHoleHasNoExtents() throws {
        #expect(try extents(size: 4 << 20, data: []) == [])
    }

    @Test func anEmptyFileHasNoExtents() throws {
        #expect(try extents(size: 0, data: []) == [])
    }

    @Test func aClosedDescriptorEndsTheWalkAtOnce() {
        #expect(Array(DataExtents(fd: -1, size: 1 << 20)) == [])
    }
}
