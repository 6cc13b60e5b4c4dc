/// Constants of the USB/IP protocol as the Linux kernel and usbip-utils speak it.
///
/// Every integer on the wire is big-endian. A session opens with an
/// `op_common` header (see ``USBIPHeader``) followed by a body that depends
/// on the operation code.
public enum USBIP {
    /// Protocol version carried by every `op_common` header (usbip-utils 1.1.1).
    public static let version: UInt16 = 0x0111
    /// The IANA-registered USB/IP TCP port.
    public static let defaultPort: UInt16 = 3240
    /// Size of the NUL-padded `busid` field (`SYSFS_BUS_ID_SIZE`).
    public static let busIDSize = 32
    /// Size of the NUL-padded `path` field (`SYSFS_PATH_MAX`).
    public static let pathSize = 256
    /// Upper bound on the device count a decoder accepts in OP_REP_DEVLIST.
    /// usbip-host exports at most 16 busids; anything far above is garbage.
    public static let maxDevices: UInt32 = 1024

    /// Lowercase hexadecimal, zero-padded to `width` digits.
    @inline(never)
    public static func hex(_ value: UInt32, width: Int) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        var v = value
        repeat {
            out.append(digits[Int(v & 0xf)])
            v >>= 4
        } while v != 0
        while out.count < width { out.append(UInt8(ascii: "0")) }
        return String(decoding: out.reversed(), as: UTF8.self)
    }
}

/// Operation codes of the `op_common` header.
public enum USBIPOpCode: UInt16, Sendable {
    /// OP_REQ_DEVLIST: client asks for the exportable devices.
    case requestDevlist = 0x8005
    /// OP_REP_DEVLIST: server answers with the device list.
    case replyDevlist = 0x0005
    /// OP_REQ_IMPORT: client asks to import one busid.
    case requestImport = 0x8003
    /// OP_REP_IMPORT: server answers; on success the kernel takes the socket.
    case replyImport = 0x0003
    /// fpga-lab's own request (usbip-binder answers it, stock usbipd closes the connection):
    /// each exported board's state and, for one in use, who holds it since when.
    case requestHolders = 0x80f1
    /// The answer to ``requestHolders``.
    case replyHolders = 0x00f1
}

/// The `status` field of `op_common` (`ST_*` in usbip-utils).
public enum USBIPStatus: UInt32, Sendable {
    case ok = 0
    case notAvailable = 1
    case deviceBusy = 2
    case deviceError = 3
    case noDevice = 4
    case error = 5
}

/// Errors of the USB/IP decoders: the input is complete enough to be judged, and wrong.
public enum USBIPWireError: Error, Equatable, Sendable {
    /// The header's version is not ``USBIP/version``.
    case badVersion(UInt16)
    /// The header's code is not the one this decoder expects (or not known at all).
    case unexpectedCode(UInt16)
    /// A request header carried a status other than 0.
    case badStatus(UInt32)
    /// OP_REP_DEVLIST announced more than ``USBIP/maxDevices`` devices.
    case tooManyDevices(UInt32)
    /// A holders reply carried a board state other than 1, 2 or 3.
    case badBoardState(UInt32)

    /// One line, for logs.
    public var message: String {
        switch self {
        case .badVersion(let v): return "unsupported USB/IP version 0x\(USBIP.hex(UInt32(v), width: 4))"
        case .unexpectedCode(let c): return "unexpected USB/IP operation 0x\(USBIP.hex(UInt32(c), width: 4))"
        case .badStatus(let s): return "request carries non-zero status \(s)"
        case .tooManyDevices(let n): return "device list announces \(n) devices"
        case .badBoardState(let v): return "holders reply carries board state \(v) (1, 2 or 3 expected)"
        }
    }
}
