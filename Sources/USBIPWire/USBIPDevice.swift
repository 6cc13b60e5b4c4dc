/// `struct usbip_usb_device`: one exported device, 312 bytes on the wire.
///
/// ```
///    0 +------------------------------------------+
///      | path[256]   NUL-padded sysfs path        |
///  256 +------------------------------------------+
///      | busid[32]   NUL-padded, e.g. "1-1.3"     |
///  288 +--------------+--------------+------------+
///      | busnum u32   | devnum u32   | speed u32  |
///  300 +---------+----------+-----------+---------+
///      | idVendor| idProduct| bcdDevice | u16 each
///  306 +----+----+----+----+----+----+
///      |cls |sub |prot|cfg |ncfg|nif |  u8 each
///  312 +----+----+----+----+----+----+
/// ```
public struct USBIPDevice: Equatable, Sendable {
    /// Encoded size in bytes.
    public static let size = 312

    public var path: String
    public var busID: String
    public var busnum: UInt32
    public var devnum: UInt32
    /// `enum usb_device_speed`; see ``USBSpeed``.
    public var speed: UInt32
    public var idVendor: UInt16
    public var idProduct: UInt16
    public var bcdDevice: UInt16
    public var deviceClass: UInt8
    public var deviceSubClass: UInt8
    public var deviceProtocol: UInt8
    public var configurationValue: UInt8
    public var numConfigurations: UInt8
    public var numInterfaces: UInt8

    public init(
        path: String, busID: String, busnum: UInt32, devnum: UInt32, speed: UInt32,
        idVendor: UInt16, idProduct: UInt16, bcdDevice: UInt16,
        deviceClass: UInt8, deviceSubClass: UInt8, deviceProtocol: UInt8,
        configurationValue: UInt8, numConfigurations: UInt8, numInterfaces: UInt8
    ) {
        self.path = path
        self.busID = busID
        self.busnum = busnum
        self.devnum = devnum
        self.speed = speed
        self.idVendor = idVendor
        self.idProduct = idProduct
        self.bcdDevice = bcdDevice
        self.deviceClass = deviceClass
        self.deviceSubClass = deviceSubClass
        self.deviceProtocol = deviceProtocol
        self.configurationValue = configurationValue
        self.numConfigurations = numConfigurations
        self.numInterfaces = numInterfaces
    }

    public func encode(into w: inout WireWriter) {
        w.fixedString(path, size: USBIP.pathSize)
        w.fixedString(busID, size: USBIP.busIDSize)
        w.u32(busnum)
        w.u32(devnum)
        w.u32(speed)
        w.u16(idVendor)
        w.u16(idProduct)
        w.u16(bcdDevice)
        w.u8(deviceClass)
        w.u8(deviceSubClass)
        w.u8(deviceProtocol)
        w.u8(configurationValue)
        w.u8(numConfigurations)
        w.u8(numInterfaces)
    }

    /// Reads one device; nil when fewer than 312 bytes remain.
    public static func read(from r: inout WireReader) -> USBIPDevice? {
        guard r.remaining >= size,
            let path = r.fixedString(size: USBIP.pathSize),
            let busID = r.fixedString(size: USBIP.busIDSize),
            let busnum = r.u32(), let devnum = r.u32(), let speed = r.u32(),
            let vendor = r.u16(), let product = r.u16(), let bcd = r.u16(),
            let cls = r.u8(), let sub = r.u8(), let proto = r.u8(),
            let cfg = r.u8(), let ncfg = r.u8(), let nif = r.u8()
        else { return nil }
        return USBIPDevice(
            path: path, busID: busID, busnum: busnum, devnum: devnum, speed: speed,
            idVendor: vendor, idProduct: product, bcdDevice: bcd,
            deviceClass: cls, deviceSubClass: sub, deviceProtocol: proto,
            configurationValue: cfg, numConfigurations: ncfg, numInterfaces: nif)
    }
}

/// `struct usbip_usb_interface`: 4 bytes per interface after a device in OP_REP_DEVLIST.
///
/// ```
///  +-----+-----+------+-----+
///  | cls | sub | prot | pad |
///  +-----+-----+------+-----+
/// ```
public struct USBIPInterface: Equatable, Sendable {
    public static let size = 4

    public var interfaceClass: UInt8
    public var interfaceSubClass: UInt8
    public var interfaceProtocol: UInt8

    public init(interfaceClass: UInt8, interfaceSubClass: UInt8, interfaceProtocol: UInt8) {
        self.interfaceClass = interfaceClass
        self.interfaceSubClass = interfaceSubClass
        self.interfaceProtocol = interfaceProtocol
    }

    public func encode(into w: inout WireWriter) {
        w.u8(interfaceClass)
        w.u8(interfaceSubClass)
        w.u8(interfaceProtocol)
        w.u8(0)
    }

    public static func read(from r: inout WireReader) -> USBIPInterface? {
        guard r.remaining >= size, let c = r.u8(), let s = r.u8(), let p = r.u8(), r.u8() != nil
        else { return nil }
        return USBIPInterface(interfaceClass: c, interfaceSubClass: s, interfaceProtocol: p)
    }
}

/// `enum usb_device_speed` values carried in ``USBIPDevice/speed``.
public enum USBSpeed: UInt32, Sendable {
    case unknown = 0, low = 1, full = 2, high = 3, wireless = 4, superSpeed = 5, superSpeedPlus = 6

    /// Maps the text of sysfs `speed` (Mbit/s: "1.5", "12", "480", "5000", ...).
    public init(sysfs text: String) {
        switch text {
        case "1.5": self = .low
        case "12": self = .full
        case "480": self = .high
        case "53.3-480": self = .wireless
        case "5000": self = .superSpeed
        case "10000", "20000": self = .superSpeedPlus
        default: self = .unknown
        }
    }
}
