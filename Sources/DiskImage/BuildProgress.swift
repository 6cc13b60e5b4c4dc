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
