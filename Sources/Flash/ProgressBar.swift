import Foundation

/// A one-line progress bar with rate and ETA, redrawn at most 5 times a second on stderr;
/// silent unless stderr is a terminal.
///
/// `writing  [##########..........]  48%  310.0 MiB / 645.0 MiB  52.3 MiB/s  ETA 0:06`
public final class ProgressBar {
    private let enabled: Bool
    private var label = ""
    private var total: UInt64?
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    public init(enabled: Bool = isatty(2) == 1) {
        self.enabled = enabled
    }

    /// Starts a phase; `total` nil shows bytes and rate only.
    public func begin(_ label: String, total: UInt64?) {
        self.label = label
        self.total = total
        started = Date()
        lastDraw = .distantPast
    }

    public func update(_ done: UInt64) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
        lastDraw = now
        draw(Self.line(label: label, done: done, total: total, elapsed: now.timeIntervalSince(started)))
    }

    /// Ends the phase's line.
    public func end() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        drawn = false
    }

    private func draw(_ line: String) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    /// The text of the bar, without terminal controls.
    public static func line(label: String, done: UInt64, total: UInt64?, elapsed: TimeInterval) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var parts = [label.padding(toLength: 9, withPad: " ", startingAt: 0)]
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * 20)
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "]")
            parts.append(String(format: "%3d%%", Int(fraction * 100)))
            parts.append("\(mebibytes(done)) / \(mebibytes(total))")
            parts.append("\(mebibytes(UInt64(rate)))/s")
            let eta = rate > 0 ? Int((Double(total) - Double(min(done, total))) / rate) : 0
            parts.append(String(format: "ETA %d:%02d", eta / 60, eta % 60))
        } else {
            parts.append(mebibytes(done))
            parts.append("\(mebibytes(UInt64(rate)))/s")
        }
        return parts.joined(separator: "  ")
    }

    static func mebibytes(_ bytes: UInt64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
