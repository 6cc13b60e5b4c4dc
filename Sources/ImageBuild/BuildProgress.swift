import DiskFormats
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where long work reports how far it got: a progress bar on a terminal, nothing otherwise.
public protocol BuildProgress: AnyObject {
    /// A new phase starts (`extract`, `patch`, `bmap`, `compress`, `checksum`); `total` in bytes
    /// when known.
    func phase(_ name: String, total: UInt64?)
    /// Bytes done in the current phase.
    func advance(to done: UInt64)
    func finish()
}

/// Reports nothing.
public final class SilentProgress: BuildProgress {
    public init() {}
    public func phase(_ name: String, total: UInt64?) {}
    public func advance(to done: UInt64) {}
    public func finish() {}
}

/// Passes progress on and records how long each phase took (for `--json` and `make bench`).
public final class PhaseTimer: BuildProgress {
    private let inner: BuildProgress
    private var current: (name: String, started: UInt64)?
    public private(set) var seconds: [(phase: String, seconds: Double)] = []

    public init(_ inner: BuildProgress) { self.inner = inner }

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
    func endPhase() { close() }

    private func close() {
        guard let current else { return }
        seconds.append((current.name, Double(Self.now() - current.started) / 1e9))
        self.current = nil
    }

    private static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// Progress of one image of a batch, whose phases run on two threads (ImageBatch): calls are
/// serialised on a lock shared by the batch, and each phase is named with the image's file.
final class BatchImageProgress: BuildProgress, @unchecked Sendable {
    private let inner: BuildProgress
    private let lock: NSLock
    private let label: String

    init(_ inner: BuildProgress, lock: NSLock, label: String) {
        self.inner = inner
        self.lock = lock
        self.label = label
    }

    func phase(_ name: String, total: UInt64?) { lock.withLock { inner.phase("\(name) \(label)", total: total) } }
    func advance(to done: UInt64) { lock.withLock { inner.advance(to: done) } }
    func finish() { lock.withLock { inner.finish() } }
}
