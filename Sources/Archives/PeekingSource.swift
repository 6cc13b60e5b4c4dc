/// A byte source that can look at its first bytes before anyone reads them (to tell a
/// container by its magic number) and shows every chunk that passes through to `observe`
/// (to count progress or hash a download), with the total so far.
public final class PeekingSource: ByteSource {
    public let inner: ByteSource
    public private(set) var consumed: UInt64 = 0
    private var peeked: [UInt8] = []
    private let observe: (UnsafeRawBufferPointer, UInt64) -> Void

    public var name: String { inner.name }

    public init(_ inner: ByteSource, observe: @escaping (UnsafeRawBufferPointer, UInt64) -> Void = { _, _ in }) {
        self.inner = inner
        self.observe = observe
    }

    /// Up to `count` first bytes (fewer only at the end of the input); `read` returns them again.
    public func peek(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = try buffer.withUnsafeMutableBytes { try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
            if n == 0 { break }
            got += n
        }
        peeked = Array(buffer[..<got])
        return peeked
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count: Int
        if !peeked.isEmpty {
            count = min(buffer.count, peeked.count)
            peeked.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            peeked.removeFirst(count)
        } else {
            count = try inner.read(into: buffer)
        }
        consumed += UInt64(count)
        observe(UnsafeRawBufferPointer(rebasing: buffer[..<count]), consumed)
        return count
    }

    /// Reads to the end (bytes a decoder left unread, such as stream padding), so `observe`
    /// sees the whole input.
    public func drain() throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while try buffer.withUnsafeMutableBytes({ try read(into: $0) }) > 0 {}
    }
}
