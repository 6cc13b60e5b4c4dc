import DiskFormats
import ImageBuild
import Foundation

/// A one-line progress bar on stderr when it is a terminal: phase, bytes, percentage, rate.
final class TerminalProgress: BuildProgress {
    private var name = ""
    private var total: UInt64?
    private var started = Date()
    private var lastDraw = Date.distantPast
    private let enabled: Bool

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) { self.enabled = enabled }

    func phase(_ name: String, total: UInt64?) {
        if enabled, !self.name.isEmpty { FileHandle.standardError.write(Data("\n".utf8)) }
        self.name = name
        self.total = total
        started = Date()
        lastDraw = .distantPast
        draw(0, force: true)
    }

    func advance(to done: UInt64) { draw(done, force: false) }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func draw(_ done: UInt64, force: Bool) {
        guard enabled, force || Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let elapsed = max(Date().timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed / 1_048_576
        var line = "\r\u{1b}[K\(name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(Self.mib(done))"
        if let total, total > 0 {
            let fraction = min(Double(done) / Double(total), 1)
            let filled = Int(fraction * 30)
            line += " / \(Self.mib(total)) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(Int(fraction * 100))%"
        }
        if done > 0 { line += String(format: " %.0f MiB/s", rate) }
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func mib(_ bytes: UInt64) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
}
