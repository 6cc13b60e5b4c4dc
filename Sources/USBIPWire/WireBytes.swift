/// Appends big-endian integers and fixed-size C strings to a byte array.
///
/// Every message is encoded field by field through this type, never by
/// copying a struct's memory image.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    public mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Writes `s` as UTF-8 into a field of exactly `size` bytes: truncated to
    /// `size - 1` bytes so that a NUL always terminates it, then NUL-padded.
    public mutating func fixedString(_ s: String, size: Int) {
        var n = 0
        for b in s.utf8 where n < size - 1 {
            bytes.append(b)
            n += 1
        }
        while n < size {
            bytes.append(0)
            n += 1
        }
    }
}

/// Reads big-endian integers and fixed-size C strings; every read returns
/// nil when the input ends first, so decoders can say "need more bytes".
public struct WireReader: Sendable {
    private let bytes: [UInt8]
    /// Index of the next unread byte.
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    public mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// Reads a `size`-byte field and returns the text before its first NUL.
    public mutating func fixedString(size: Int) -> String? {
        guard remaining >= size else { return nil }
        var end = offset
        while end < offset + size && bytes[end] != 0 { end += 1 }
        let s = String(decoding: bytes[offset..<end], as: UTF8.self)
        offset += size
        return s
    }
}
