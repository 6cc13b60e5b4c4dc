import Archives
import Foundation
import Testing

/// The threaded .xz decoder on multi-block streams (our own encoder cuts 64 KiB blocks, as
/// `xz -T` does), on two streams concatenated, and on a truncated file.
@Suite struct XZStreamReaderTests {
    /// 1 MiB that compresses but is not trivial: a counter mixed into every 4 bytes.
    static let payload: [UInt8] = (0..<(1 << 18)).flatMap { index -> [UInt8] in
        let value = UInt32(truncatingIfNeeded: index &* 2_654_435_761) >> 20
        return [UInt8(value & 0xff), UInt8(value >> 8), 0x5a, UInt8(index & 0x7)]
    }

    static func compress(_ bytes: [UInt8], to path: String) throws {
        let writer = try XZFileWriter(path: path, preset: 1, blockSize: 64 << 10, threads: 2)
        try bytes.withUnsafeBytes { try writer.write($0) }
        try writer.finish()
    }

    static func decode(_ path: String, threads: UInt32) throws -> [UInt8] {
        let reader = try XZStreamReader(source: try FileByteSource(path: path), threads: threads)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 100_000)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if count == 0 { return out }
            out += buffer[..<count]
        }
    }

    static func scratch() -> String {
        let path = NSTemporaryDirectory() + "xz-reader-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [UInt32(1), 2, 0])
    func multiBlockStream(threads: UInt32) throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.compress(Self.payload, to: dir + "/a.xz")
        #expect(try Self.decode(dir + "/a.xz", threads: threads) == Self.payload)
    }

    @Test func concatenatedStreams() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.compress(Self.payload, to: dir + "/a.xz")
        try Self.compress(Array("tail".utf8), to: dir + "/b.xz")
        let both = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.xz")) + Data(contentsOf: URL(fileURLWithPath: dir + "/b.xz"))
        try both.write(to: URL(fileURLWithPath: dir + "/ab.xz"))
        #expect(try Self.decode(dir + "/ab.xz", threads: 2) == Self.payload + Array("tail".utf8))
    }

    @Test func truncatedStreamIsAnError() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.compress(Self.payload, to: dir + "/a.xz")
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.xz"))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.xz"))
        #expect {
            _ = try Self.decode(dir + "/cut.xz", threads: 2)
        } throws: { error in
            "\(error)".contains("cut.xz: xz decoder: the input ends before the stream does")
        }
    }
}
