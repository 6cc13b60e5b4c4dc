import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `fpga-lab ARGS` with its stderr on a pseudo-terminal, so it draws its progress bar: each
/// phase (`extract`, `patch`, `bmap`, `compress`, `checksum`) starts with `\r ESC[K NAME`, and
/// the bar ends with a newline once the outputs are published. That tells which phase the run
/// was in when it was killed, from what it printed before it died.
final class PhaseWatchedRun: @unchecked Sendable {
    let process = Process()
    let started = Date()
    private let master: Int32
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    /// When each phase was first seen, in seconds after `started`.
    private var seen: [(phase: String, at: Double)] = []
    private let done = DispatchSemaphore(value: 0)

    init(_ arguments: [String], in directory: URL) throws {
        // posix_openpt by hand (Glibc's declaration needs _XOPEN_SOURCE): unlock the new
        // terminal (TIOCSPTLCK) and ask its number (TIOCGPTN).
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            Issue.record("no pseudo-terminal: \(String(cString: strerror(errno)))")
            throw CocoaError(.featureUnsupported)
        }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { throw CocoaError(.fileNoSuchFile) }
        let slaveHandle = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.executableURL = URL(fileURLWithPath: Project.binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["SOURCE_DATE_EPOCH"] = "1700000000"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = slaveHandle
        try process.run()
        close(slave)
        Thread.detachNewThread { [self] in readUntilClosed() }
    }

    private func readUntilClosed() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            lock.lock()
            bytes += buffer[..<n]
            let now = Date().timeIntervalSince(started)
            for phase in Self.phases(in: bytes) where !seen.contains(where: { $0.phase == phase }) {
                seen.append((phase, now))
            }
            lock.unlock()
        }
        done.signal()
    }

    /// Phase names in the order drawn.
    static func phases(in bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        var out: [String] = []
        for chunk in text.components(separatedBy: "\r\u{1b}[K").dropFirst() {
            let name = String(chunk.prefix { $0 != " " })
            if !name.isEmpty, out.last != name { out.append(name) }
        }
        return out
    }

    /// The phase the run was in when it printed its last byte: `startup` before the first
    /// phase, `published` once the bar's final newline came after `checksum`.
    var lastPhase: String {
        lock.lock()
        defer { lock.unlock() }
        guard let last = Self.phases(in: bytes).last else { return "startup" }
        return last == "checksum" && bytes.last == UInt8(ascii: "\n") ? "published" : last
    }

    /// (phase, seconds after start when it was first drawn).
    var timeline: [(phase: String, at: Double)] {
        lock.lock()
        defer { lock.unlock() }
        return seen
    }

    /// Seconds after `started` when `phase` was first drawn, waiting for it; nil when the
    /// process ended first.
    func time(of phase: String) -> Double? {
        if phase == "startup" { return 0 }
        while true {
            if let seen = timeline.first(where: { $0.phase == phase }) { return seen.at }
            if !process.isRunning { return nil }
            usleep(500)
        }
    }

    func kill() { _ = Glibc.kill(process.processIdentifier, SIGKILL) }

    /// Waits for the process and for the terminal to drain; true when SIGKILL ended it.
    @discardableResult
    func wait() -> Bool {
        process.waitUntilExit()
        done.wait()
        close(master)
        return process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }
}
