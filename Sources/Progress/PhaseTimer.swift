#if canImport(Glibc)
import Glibc
#endif

/// Passes progress on and records how long each phase took (for `build-image --json` and
/// `make bench`, which reads those `phaseSeconds`).
public final class PhaseTimer: ProgressReporter {
    private let inner: ProgressReporter
    private var current: (name: String, started: UInt64)?
    public private(set) var seconds: [(phase: String, seconds: Double)] = []

    public init(_ inner: ProgressReporter) { self.inner = inner }

    public func phase(_ name: String, total: UInt64?) {
        close()
        current = (name, Self.now())
        inner.phase(name, total: total)
    }

    public func advance(to done: UInt64) { inner.advance(to: done) }

    public func finish() {
        close()
        inner.finish()
    }

    /// Ends the current phase's clock without a new phase (the time until the next one is
    /// nobody's: an image of a batch waiting for the one before it).
    public func endPhase() { close() }

    private func close() {
        guard let current else { return }
        seconds.append((current.name, Double(Self.now() - current.started) / 1e9))
        self.current = nil
    }

    /// CLOCK_MONOTONIC: a phase's length must not jump with the wall clock.
    private static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
