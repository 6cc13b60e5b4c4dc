import Foundation
import Testing

/// Waiting in tests is waiting for a condition: poll it until it holds. The deadline is a hang
/// guard, never a speed check: only a condition still false after it fails the test.
public enum Wait {
    /// The default deadline: long enough that only a hang reaches it on a loaded machine.
    public static let hangGuard: TimeInterval = 120

    /// Polls `condition` (every `interval` seconds) until it holds; records an issue naming
    /// `what` (and `context()`, e.g. a log) and throws when it still does not after `timeout`.
    public static func until(_ what: String, timeout: TimeInterval = hangGuard, interval: TimeInterval = 0.01,
                             context: () -> String = { "" }, sourceLocation: SourceLocation = #_sourceLocation,
                             _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else {
                let extra = context()
                Issue.record("timed out waiting until \(what)\(extra.isEmpty ? "" : ":\n" + extra)", sourceLocation: sourceLocation)
                throw ProcessRunner.Failure(description: "timed out waiting until \(what)")
            }
            Thread.sleep(forTimeInterval: interval)
        }
    }

    /// Waits until the wall clock's whole second is past the current one: between two runs of
    /// a reproducibility test, so that a timestamp leaking into an output would differ.
    public static func forTheNextSecond(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let now = time(nil)
        try until("the clock passed second \(now)", sourceLocation: sourceLocation) { time(nil) > now }
    }
}
