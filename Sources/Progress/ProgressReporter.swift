/// Where long work reports how far it got: build-image's phases (`extract`, `patch`, `bmap`,
/// `compress`, `checksum`) and flash's (`writing`, `verifying`). The library doing the work
/// says what happens; the caller picks how it shows: a bar on a terminal (`ProgressBar`),
/// nothing (`SilentProgress`), timed (`PhaseTimer`).
public protocol ProgressReporter: AnyObject {
    /// A new phase starts; `total` in bytes when known.
    func phase(_ name: String, total: UInt64?)
    /// Bytes done in the current phase.
    func advance(to done: UInt64)
    /// The work is over (or the current phase is, before a pause that is nobody's).
    func finish()
}

/// Reports nothing: the default of the libraries, so a caller that wants a bar asks for one.
public final class SilentProgress: ProgressReporter {
    public init() {}
    public func phase(_ name: String, total: UInt64?) {}
    public func advance(to done: UInt64) {}
    public func finish() {}
}
