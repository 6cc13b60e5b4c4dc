import Foundation

/// The one progress display of the command line (build-image and flash): a line on stderr,
/// redrawn at most 5 times a second, when stderr is a terminal; nothing at all otherwise, so
/// logs and pipes see only the messages.
///
/// `writing    [##########..........]   48%  310.0 MiB / 645.0 MiB  52.3 MiB/s  ETA 0:06`
///
/// Each phase's line starts with `\r ESC[K NAME` and is drawn as soon as the phase starts (the
/// build-image fault tests read the phase a killed run was in from that); a phase's line is
/// redrawn with its last count (100% for a finished phase, not the last throttled draw) and
/// ended with a newline by the next phase or by `finish()`.
public final class ProgressBar: ProgressReporter {
    private let enabled: Bool
    private var label = ""
    private var total: UInt64?
    private var done: UInt64 = 0
    private var drawnDone: UInt64 = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false

    public init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    /// Starts a phase; `total` nil shows bytes and rate only.
    public func phase(_ name: String, total: UInt64?) {
        guard enabled else { return }
        endLine()
        label = name
        self.total = total
        done = 0
        started = Date()
        draw()
    }

    public func advance(to done: UInt64) {
        guard enabled else { return }
        self.done = done
        guard Date().timeIntervalSince(lastDraw) >= 0.2 else { return }
        draw()
    }

    /// Ends the current phase's line.
    public func finish() {
        guard enabled else { return }
        endLine()
    }

    private func endLine() {
        guard drawn else { return }
        if done != drawnDone { draw() }
        FileHandle.standardError.write(Data("\n".utf8))
        drawn = false
    }

    private func draw() {
        let now = Date()
        lastDraw = now
        drawnDone = done
        let line = Self.line(label: label, done: done, total: total, elapsed: now.timeIntervalSince(started))
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        drawn = true
    }

    /// The text of the bar, without terminal controls. Rate and ETA once something is done
    /// (before that they would be 0 and a guess).
    public static func line(label: String, done: UInt64, total: UInt64?, elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        // Padded, never cut: a batch's labels (`patch pi-a.img`) are longer than the column.
        var parts = [label.count >= 9 ? label : label + String(repeating: " ", count: 9 - label.count)]
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let filled = Int(fraction * 20)
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "]")
            parts.append(String(format: "%3d%%", Int(fraction * 100)))
            parts.append("\(mebibytes(done)) / \(mebibytes(total))")
            if done > 0 {
                parts.append("\(mebibytes(UInt64(rate)))/s")
                let eta = rate > 0 ? Int((Double(total) - Double(min(done, total))) / rate) : 0
                parts.append(String(format: "ETA %d:%02d", eta / 60, eta % 60))
            }
        } else {
            parts.append(mebibytes(done))
            if done > 0 { parts.append("\(mebibytes(UInt64(rate)))/s") }
        }
        return parts.joined(separator: "  ")
    }

    static func mebibytes(_ bytes: UInt64) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
