/// The one hex encoder: lower-case, two digits a byte, as sha256sum, bmaptool and the
/// manifest write digests.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// `[0x9f, 0x0a]` -> `"9f0a"`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
