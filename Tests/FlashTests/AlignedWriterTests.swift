import Foundation
import Testing
@testable import Flash

@Suite struct AlignedWriterTests {
    /// Writes 64 KiB of a pattern in 1000-byte pieces through a 4 KiB buffer, with and without a
    /// writeback window: the file holds the same bytes, and with a window no more than the window
    /// is ever waiting for writeback (nothing after the final sync).
    @Test(arguments: [nil, 4096, 16384] as [Int?])
    func writesEveryByteWithinTheWindow(window: Int?) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("flash-writer-\(UUID().uuidString)").path
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        let bytes = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let writer = AlignedWriter(fd: fd, path: path, capacity: 4096, writebackWindow: window)
        var most = 0
        for start in stride(from: 0, to: bytes.count, by: 1000) {
            try bytes[start..<min(start + 1000, bytes.count)].withUnsafeBytes { try writer.append($0, at: UInt64(start)) }
            most = max(most, writer.inFlightBytes)
        }
        try writer.sync()
        #expect(writer.written == UInt64(bytes.count))
        #expect(writer.inFlightBytes == 0)
        #expect(most <= (window ?? 0))
        if let window { #expect(most > window - 4096, "the window was never filled: \(most)") }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }
}
