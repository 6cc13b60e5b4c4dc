import CCrypto

/// SHA-256 and SHA-1 over OpenSSL's libcrypto (EVP), with the shape of swift-crypto's API:
/// `var h = SHA256(); h.update(bufferPointer:); h.finalize()`, or `SHA256.hash(data:)`.
///
/// A value type: a copy that is updated gets its own context first (copy on write), so
/// `finalize()` never disturbs the hash it is called on.
public struct SHA256: StreamingDigest {
    public static let algorithm = DigestAlgorithm(name: "SHA256", size: 32)
    public var context: DigestContext

    public init() { context = DigestContext(Self.algorithm) }
}

/// Digests kept only for reading old formats (bmap 1.3).
public enum Insecure {
    public struct SHA1: StreamingDigest {
        public static let algorithm = DigestAlgorithm(name: "SHA1", size: 20)
        public var context: DigestContext

        public init() { context = DigestContext(Self.algorithm) }
    }
}

/// What SHA256 and Insecure.SHA1 share: update, finalize, one-shot hash.
public protocol StreamingDigest {
    static var algorithm: DigestAlgorithm { get }
    var context: DigestContext { get set }
    init()
}

extension StreamingDigest {
    /// Adds `bytes` to the hash.
    public mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        context.update(bytes)
    }

    /// Adds the bytes of `data` to the hash.
    public mutating func update<D: Sequence>(data: D) where D.Element == UInt8 {
        let done: Void? = data.withContiguousStorageIfAvailable { update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if done == nil { Array(data).withUnsafeBytes { update(bufferPointer: $0) } }
    }

    /// The digest of everything added so far; the hash itself can go on.
    public func finalize() -> [UInt8] { context.copy().final() }

    /// The digest of `data`.
    public static func hash<D: Sequence>(data: D) -> [UInt8] where D.Element == UInt8 {
        var digest = Self()
        digest.update(data: data)
        return digest.context.final()
    }
}

/// A digest algorithm, fetched from libcrypto's default provider once.
public final class DigestAlgorithm: @unchecked Sendable {
    let md: OpaquePointer
    /// Bytes in a digest.
    public let size: Int

    init(name: String, size: Int) {
        guard let md = EVP_MD_fetch(nil, name, nil) else { fatalError("libcrypto has no \(name)") }
        precondition(EVP_MD_get_size(md) == Int32(size), "libcrypto's \(name) is not \(size) bytes")
        self.md = md
        self.size = size
    }
}

/// An EVP_MD_CTX, freed in deinit.
public final class DigestContext {
    let algorithm: DigestAlgorithm
    let pointer: OpaquePointer

    init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        guard let pointer = EVP_MD_CTX_new(), EVP_DigestInit_ex(pointer, algorithm.md, nil) == 1 else {
            fatalError("libcrypto could not start a digest (out of memory)")
        }
        self.pointer = pointer
    }

    private init(copying other: DigestContext) {
        algorithm = other.algorithm
        guard let pointer = EVP_MD_CTX_new(), EVP_MD_CTX_copy_ex(pointer, other.pointer) == 1 else {
            fatalError("libcrypto could not copy a digest (out of memory)")
        }
        self.pointer = pointer
    }

    deinit { EVP_MD_CTX_free(pointer) }

    func copy() -> DigestContext { DigestContext(copying: self) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // EVP_DigestUpdate fails only on a context that was never initialised.
        precondition(EVP_DigestUpdate(pointer, base, bytes.count) == 1)
    }

    /// Ends the digest; the context is spent.
    func final() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: algorithm.size)
        var length: UInt32 = 0
        precondition(EVP_DigestFinal_ex(pointer, &out, &length) == 1 && Int(length) == algorithm.size)
        return out
    }
}
