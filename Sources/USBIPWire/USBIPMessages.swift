/// A client request, as the server reads it.
///
/// ```
///  OP_REQ_DEVLIST:  op_common(0x8005)                        8 bytes
///  OP_REQ_IMPORT:   op_common(0x8003) | busid[32]           40 bytes
/// ```
public enum USBIPRequest: Equatable, Sendable {
    case devlist
    case importDevice(busID: String)

    public func encode() -> [UInt8] {
        var w = WireWriter()
        switch self {
        case .devlist:
            USBIPHeader(code: .requestDevlist).encode(into: &w)
        case .importDevice(let busID):
            USBIPHeader(code: .requestImport).encode(into: &w)
            w.fixedString(busID, size: USBIP.busIDSize)
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
