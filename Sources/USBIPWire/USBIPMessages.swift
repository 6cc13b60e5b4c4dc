/// A client request, as the server reads it.
///
/// ```
///  OP_REQ_DEVLIST:  op_common(0x8005)                        8 bytes
///  OP_REQ_IMPORT:   op_common(0x8003) | busid[32]           40 bytes
///  OP_REQ_HOLDERS:  op_common(0x80f1)                        8 bytes  (fpga-lab's own)
/// ```
public enum USBIPRequest: Equatable, Sendable {
    case devlist
    case importDevice(busID: String)
    case holders

    public func encode() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .devlist:
            USBIPHeader(code: .requestDevlist).encode(into: &w)
        case .importDevice(let busID):
            USBIPHeader(code: .requestImport).encode(into: &w)
            w.fixedString(busID, size: USBIP.busIDSize)
        case .holders:
            USBIPHeader(code: .requestHolders).encode(into: &w)
        }
        return w.bytes
    }

    /// Decodes one request from the start of `bytes`.
    /// - Returns: the request and the bytes it used, or nil when `bytes` is a
    ///   valid but incomplete prefix.
    /// - Throws: when the header is wrong (version, code, non-zero status).
    public static func decode(_ bytes: [UInt8]) throws(USBIPWireError) -> (USBIPRequest, Int)? {
        var r = WireReader(bytes)
        guard let h = USBIPHeader.read(from: &r) else { return nil }
        guard h.version == USBIP.version else { throw .badVersion(h.version) }
        guard h.status == 0 else { throw .badStatus(h.status) }
        switch h.code {
        case USBIPOpCode.requestDevlist.rawValue:
            return (.devlist, r.offset)
        case USBIPOpCode.requestImport.rawValue:
            guard let busID = r.fixedString(size: USBIP.busIDSize) else { return nil }
            return (.importDevice(busID: busID), r.offset)
        case USBIPOpCode.requestHolders.rawValue:
            return (.holders, r.offset)
        default:
            throw .unexpectedCode(h.code)
        }
    }
}

/// One device of OP_REP_DEVLIST: the device and its interfaces.
public struct USBIPExportedDevice: Equatable, Sendable {
    public var device: USBIPDevice
    public var interfaces: [USBIPInterface]

    /// `device.numInterfaces` is what goes on the wire and decides how many
    /// interface records follow, so it is set from `interfaces.count`.
    public init(device: USBIPDevice, interfaces: [USBIPInterface]) {
        var d = device
        d.numInterfaces = UInt8(truncatingIfNeeded: interfaces.count)
        self.device = d
        self.interfaces = interfaces
    }
}

/// OP_REP_DEVLIST.
///
/// ```
///  op_common(0x0005, status) | ndev u32 | { usbip_usb_device | usbip_usb_interface * nif } * ndev
/// ```
public struct USBIPDevlistReply: Equatable, Sendable {
    public var status: UInt32
    public var devices: [USBIPExportedDevice]

    public init(status: UInt32 = 0, devices: [USBIPExportedDevice]) {
        self.status = status
        self.devices = devices
    }

    public func encode() -> [UInt8] {
        var w = WireWriter()
        USBIPHeader(code: .replyDevlist, status: status).encode(into: &w)
        w.u32(UInt32(truncatingIfNeeded: devices.count))
        for d in devices {
            d.device.encode(into: &w)
            for i in d.interfaces { i.encode(into: &w) }
        }
        return w.bytes
    }

    /// Decodes a reply from the start of `bytes`; nil when more bytes are needed.
    /// A reply with a non-zero status ends after the header (usbipd sends no count).
    public static func decode(_ bytes: [UInt8]) throws(USBIPWireError) -> (USBIPDevlistReply, Int)? {
        var r = WireReader(bytes)
        guard let h = USBIPHeader.read(from: &r) else { return nil }
        try h.check(.replyDevlist)
        if h.status != 0 { return (USBIPDevlistReply(status: h.status, devices: []), r.offset) }
        guard let count = r.u32() else { return nil }
        guard count <= USBIP.maxDevices else { throw .tooManyDevices(count) }
        var devices: [USBIPExportedDevice] = []
        for _ in 0..<count {
            guard let d = USBIPDevice.read(from: &r) else { return nil }
            var interfaces: [USBIPInterface] = []
            for _ in 0..<d.numInterfaces {
                guard let i = USBIPInterface.read(from: &r) else { return nil }
                interfaces.append(i)
            }
            devices.append(USBIPExportedDevice(device: d, interfaces: interfaces))
        }
        return (USBIPDevlistReply(status: 0, devices: devices), r.offset)
    }
}

/// OP_REP_IMPORT.
///
/// ```
///  status == 0:  op_common(0x0003, 0)      | usbip_usb_device     320 bytes
///  status != 0:  op_common(0x0003, status)                          8 bytes
/// ```
public struct USBIPImportReply: Equatable, Sendable {
    public var status: UInt32
    /// Present exactly when `status` is 0.
    public var device: USBIPDevice?

    public init(status: UInt32, device: USBIPDevice?) {
        self.status = status
        self.device = device
    }

    public func encode() -> [UInt8] {
        var w = WireWriter()
        USBIPHeader(code: .replyImport, status: status).encode(into: &w)
        if status == 0, let device { device.encode(into: &w) }
        return w.bytes
    }

    /// Decodes a reply from the start of `bytes`; nil when more bytes are needed.
    public static func decode(_ bytes: [UInt8]) throws(USBIPWireError) -> (USBIPImportReply, Int)? {
        var r = WireReader(bytes)
        guard let h = USBIPHeader.read(from: &r) else { return nil }
        try h.check(.replyImport)
        if h.status != 0 { return (USBIPImportReply(status: h.status, device: nil), r.offset) }
        guard let d = USBIPDevice.read(from: &r) else { return nil }
        return (USBIPImportReply(status: 0, device: d), r.offset)
    }
}

/// One exported board in OP_REP_HOLDERS.
///
/// ```
///  0                32       36                44                              60     62     64
///  +----------------+--------+-----------------+-------------------------------+------+------+
///  | busid[32]      | state  | since           | peer address[16]              | port | 0    |
///  | NUL-padded     | u32    | u64, Unix s     | IPv6; IPv4 as ::ffff:a.b.c.d  | u16  | u16  |
///  +----------------+--------+-----------------+-------------------------------+------+------+
/// ```
/// `state` is usbip-host's `usbip_status`: 1 available, 2 in use, 3 error. For a board in use
/// that this server handed over, `since` is when (seconds since 1970, UTC) and `peer` the
/// client's address and TCP port; otherwise all three are zero.
public struct USBIPBoardHolder: Equatable, Sendable {
    public static let size = 64

    public enum State: UInt32, Sendable {
        case available = 1
        case inUse = 2
        case error = 3
    }

    public var busID: String
    public var state: State
    public var since: UInt64
    /// 16 bytes, IPv4 as IPv4-mapped IPv6; all zeros when nobody is known to hold it.
    public var peerAddress: [UInt8]
    public var peerPort: UInt16

    public init(busID: String, state: State, since: UInt64 = 0, peerAddress: [UInt8] = [UInt8](repeating: 0, count: 16), peerPort: UInt16 = 0) {
        self.busID = busID
        self.state = state
        self.since = since
        self.peerAddress = peerAddress
        self.peerPort = peerPort
    }

    /// Whether a holder is known (an address was recorded).
    public var hasHolder: Bool { peerAddress.contains { $0 != 0 } }

    func encode(into w: inout WireWriter) {
        w.fixedString(busID, size: USBIP.busIDSize)
        w.u32(state.rawValue)
        w.u32(UInt32(truncatingIfNeeded: since >> 32))
        w.u32(UInt32(truncatingIfNeeded: since))
        for i in 0..<16 { w.u8(i < peerAddress.count ? peerAddress[i] : 0) }
        w.u16(peerPort)
        w.u16(0)
    }

    static func read(from r: inout WireReader) throws(USBIPWireError) -> USBIPBoardHolder? {
        guard let busID = r.fixedString(size: USBIP.busIDSize), let rawState = r.u32(),
              let high = r.u32(), let low = r.u32() else { return nil }
        var address: [UInt8] = []
        for _ in 0..<16 {
            guard let b = r.u8() else { return nil }
            address.append(b)
        }
        guard let port = r.u16(), r.u16() != nil else { return nil }
        guard let state = State(rawValue: rawState) else { throw .badBoardState(rawState) }
        return USBIPBoardHolder(busID: busID, state: state, since: UInt64(high) << 32 | UInt64(low), peerAddress: address, peerPort: port)
    }
}

/// OP_REP_HOLDERS, fpga-lab's answer to OP_REQ_HOLDERS: every board the server exports.
///
/// ```
///  op_common(0x00f1, 0) | count u32 | board * count (64 bytes each, see USBIPBoardHolder)
/// ```
/// Sent by usbip-binder behind the same allowlist as the stock requests. Stock usbipd does not
/// know the code: it logs "unknown op_code" and closes the connection, which a client reads as
/// "state unknown".
public struct USBIPHoldersReply: Equatable, Sendable {
    public var boards: [USBIPBoardHolder]

    public init(boards: [USBIPBoardHolder]) { self.boards = boards }

    public func encode() -> [UInt8] {
        var w = WireWriter()
        USBIPHeader(code: .replyHolders).encode(into: &w)
        w.u32(UInt32(truncatingIfNeeded: boards.count))
        for b in boards { b.encode(into: &w) }
        return w.bytes
    }

    /// Decodes a reply from the start of `bytes`; nil when more bytes are needed.
    public static func decode(_ bytes: [UInt8]) throws(USBIPWireError) -> (USBIPHoldersReply, Int)? {
        var r = WireReader(bytes)
        guard let h = USBIPHeader.read(from: &r) else { return nil }
        try h.check(.replyHolders)
        guard h.status == 0 else { throw .badStatus(h.status) }
        guard let count = r.u32() else { return nil }
        guard count <= USBIP.maxDevices else { throw .tooManyDevices(count) }
        var boards: [USBIPBoardHolder] = []
        for _ in 0..<count {
            guard let b = try USBIPBoardHolder.read(from: &r) else { return nil }
            boards.append(b)
        }
        return (USBIPHoldersReply(boards: boards), r.offset)
    }
}
