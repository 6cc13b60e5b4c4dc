/// The `op_common` header that starts every USB/IP request and reply.
///
/// ```
///  0      2      4             8
///  +------+------+-------------+
///  | ver  | code |   status    |   all big-endian
///  +------+------+-------------+
/// ```
public struct USBIPHeader: Equatable, Sendable {
    /// Encoded size in bytes.
    public static let size = 8

    public var version: UInt16
    public var code: UInt16
    public var status: UInt32

    public init(version: UInt16 = USBIP.version, code: USBIPOpCode, status: UInt32 = 0) {
        self.version = version
        self.code = code.rawValue
        self.status = status
    }

    public init(version: UInt16, rawCode: UInt16, status: UInt32) {
        self.version = version
        self.code = rawCode
        self.status = status
    }

    public func encode(into w: inout WireWriter) {
        w.u16(version)
        w.u16(code)
        w.u32(status)
    }

    /// Reads a header without judging it; nil when fewer than 8 bytes remain.
    public static func read(from r: inout WireReader) -> USBIPHeader? {
        guard let v = r.u16(), let c = r.u16(), let s = r.u32() else { return nil }
        return USBIPHeader(version: v, rawCode: c, status: s)
    }

    /// Throws unless the version is ``USBIP/version`` and the code is `expected`.
    public func check(_ expected: USBIPOpCode) throws(USBIPWireError) {
        guard version == USBIP.version else { throw .badVersion(version) }
        guard code == expected.rawValue else { throw .unexpectedCode(code) }
    }
}
