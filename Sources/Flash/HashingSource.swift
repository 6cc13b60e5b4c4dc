import Artifacts
import Archives
import Foundation

/// A byte source that hashes (SHA-256) what passes through, and can peek at the first bytes to
/// tell the container by its magic (both done by Archives' PeekingSource).
final class HashingSource: ByteSource {
    private var source: PeekingSource!
    let digest = BackgroundDigest()
    /// Set to false before the stream is read when nothing will check the file's digest.
    var hashing = true
    var name: String { source.name }
    /// The source being read (an HTTPByteSource knows the download's length).
    var inner: ByteSource { source.inner }

    init(_ inner: ByteSource) {
        source = PeekingSource(inner) { [unowned self] bytes, _ in if hashing { digest.update(bytes) } }
    }

    func peek(_ count: Int) throws -> [UInt8] { try source.peek(count) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try source.read(into: buffer) }

    /// Reads to the end, so the digest covers the whole file.
    func drain() throws { try source.drain() }
}
