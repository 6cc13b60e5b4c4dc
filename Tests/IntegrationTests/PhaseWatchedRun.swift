import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `fpga-lab ARGS` with its stderr on a pseudo-terminal, so it draws its progress bar: each
/// phase (`extract`, `patch`, `bmap`, `compress`, `checksum`) starts with `\r ESC[K NAME`, and
/// the bar ends with a newline once the outputs are published. That tells which phase the run
/// was in when it was killed, from what it printed before it died.
final class PhaseWatchedRun: @unchecked Sendable {
    private var process: ProcessRunner.Background!
    private let master: Int32
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    /// Checked on each output the run draws; once true, the run is killed (SIGKILL).
    private var killWhen: ((Progress) -> Bool)?
    private var readerDone = false

    /// What the run drew so far: its phases in order, and for the current one how often its
    /// line was drawn and the last percentage it showed (nil while it shows none).
    struct Progress {
        var phases: [String]
        var draws: Int
        var percent: Int?

        init(_ bytes: [UInt8]) {
            let text = String(decoding: bytes, as: UTF8.self)
            phases = []
            draws = 0
            percent = nil
            for chunk in text.components(separatedBy: "\r\u{1b}[K").dropFirst() {
                let name = String(chunk.prefix { $0 != " " })
                guard !name.isEmpty else { continue }
                if phases.last != name {
                    phases.append(name)
                    draws = 0
                }
                draws += 1
                // "patch      [#####...............]   25%  ..."
                if let sign = chunk.firstIndex(of: "%") {
                    percent = Int(chunk[..<sign].reversed().prefix { $0.isNumber }.reversed().map(String.init).joined())
                } else {
                    percent = nil
                }
            }
        }
    }
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
        process = try ProcessRunner.Background(Project.binary, arguments, in: directory,
                                               environment: ["SOURCE_DATE_EPOCH": "1700000000"], standardError: slaveHandle)
        close(slave)
        Thread.detachNewThread { [self] in readUntilClosed() }
    }

    private func readUntilClosed() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            condition.withLock {
                bytes += buffer[..<n]
                killIfDue()
            }
        }
        condition.withLock {
            readerDone = true
            condition.broadcast()
        }
    }

    /// Under the lock.
    private func killIfDue() {
        if let killWhen, killWhen(Progress(bytes)) {
            self.killWhen = nil
            kill()
        }
    }

    /// Kills the run (SIGKILL) as soon as what it drew satisfies `condition`: now, if it already
    /// does, else right after the output that makes it true. A run that ends first is not killed.
    func kill(when condition: @escaping (Progress) -> Bool) {
        self.condition.withLock {
            killWhen = condition
            killIfDue()
        }
    }

    /// Phase names in the order drawn.
    static func phases(in bytes: [UInt8]) -> [String] { Progress(bytes).phases }

    /// The phase the run was in when it printed its last byte: `startup` before the first
    /// phase, `published` once the bar's final newline came after `checksum`.
    var lastPhase: String {
        condition.withLock {
            guard let last = Self.phases(in: bytes).last else { return "startup" }
            return last == "checksum" && bytes.last == UInt8(ascii: "\n") ? "published" : last
        }
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }

    func kill() { process.signal(SIGKILL) }

    /// Waits for the process and for the terminal to drain; true when SIGKILL ended it.
    @discardableResult
    func wait() throws -> Bool {
        let status = try process.wait()
        condition.withLock { while !readerDone { condition.wait() } }
        close(master)
        return process.endedBySignal && status == SIGKILL
    }
}
