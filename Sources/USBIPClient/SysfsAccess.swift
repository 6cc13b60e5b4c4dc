import Foundation
import Glibc
import SystemIO

/// The seam between the client and sysfs: reads, writes and listings, so tests can run the
/// client over a fake tree and make chosen writes fail the way the kernel does (EBUSY).
public protocol SysfsAccess: Sendable {
    /// The whole text of an attribute, nil when it does not exist or cannot be read.
    func read(_ path: String) -> String?
    /// Writes `text` in one write(2), as sysfs attributes want; throws the errno on failure.
    func write(_ path: String, _ text: String) throws(USBIPClientError)
    /// Names in a directory, sorted; empty when it does not exist.
    func list(_ directory: String) -> [String]
}

/// The real file system (real /sys, or a fake tree of regular files).
public struct FileSysfs: SysfsAccess {
    public init() {}

    /// read(2) until end of file: sysfs attributes report a size of 4096 whatever they hold,
    /// and a test's stand-in may be a FIFO.
    public func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            guard let count = try? buffer.withUnsafeMutableBytes({ try FileIO.readSome(fd, into: $0) }) else { return nil }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// O_TRUNC is harmless on sysfs and keeps a fake tree's file holding exactly the last write.
    public func write(_ path: String, _ text: String) throws(USBIPClientError) {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw .sysfs(path: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw .sysfs(path: path, errno: errno) }
        if n != bytes.count { throw .sysfs(path: path, errno: EIO) }
    }

    public func list(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}
