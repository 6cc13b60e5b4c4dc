import USBIPWire

/// Golden byte sequences written out by hand from the layout in DESIGN.md section 6,
/// independent of the encoders under test.
enum Golden {
    /// `text` as ASCII, NUL-padded to `size` bytes.
    static func field(_ text: String, _ size: Int) -> [UInt8] {
        Array(text.utf8) + [UInt8](repeating: 0, count: size - text.utf8.count)
    }

    static let arty = USBIPDevice(
        path: "/sys/devices/platform/soc/usb1/1-1/1-1.3", busID: "1-1.3",
        busnum: 1, devnum: 5, speed: USBSpeed.high.rawValue,
        idVendor: 0x0403, idProduct: 0x6010, bcdDevice: 0x0700,
        deviceClass: 0, deviceSubClass: 0, deviceProtocol: 0,
        configurationValue: 1, numConfigurations: 1, numInterfaces: 2)

    static let artyBytes: [UInt8] =
        field("/sys/devices/platform/soc/usb1/1-1/1-1.3", 256)
        + field("1-1.3", 32)
        + [0x00, 0x00, 0x00, 0x01]  // busnum 1
        + [0x00, 0x00, 0x00, 0x05]  // devnum 5
        + [0x00, 0x00, 0x00, 0x03]  // speed: USB_SPEED_HIGH
        + [0x04, 0x03, 0x60, 0x10, 0x07, 0x00]  // 0403:6010 bcd 0700
        + [0x00, 0x00, 0x00, 0x01, 0x01, 0x02]  // class/sub/proto, cfg 1, 1 config, 2 ifs

    static let artyInterfaces = [
        USBIPInterface(interfaceClass: 0xff, interfaceSubClass: 0xff, interfaceProtocol: 0xff),
        USBIPInterface(interfaceClass: 0xff, interfaceSubClass: 0x42, interfaceProtocol: 0x01),
    ]
    static let artyInterfaceBytes: [UInt8] = [0xff, 0xff, 0xff, 0x00, 0xff, 0x42, 0x01, 0x00]

    static let hub = USBIPDevice(
        path: "/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2", busID: "3-2",
        busnum: 3, devnum: 0x0102_0304, speed: USBSpeed.superSpeed.rawValue,
        idVendor: 0x09fb, idProduct: 0x6810, bcdDevice: 0xabcd,
        deviceClass: 0xef, deviceSubClass: 0x02, deviceProtocol: 0x01,
        configurationValue: 2, numConfigurations: 3, numInterfaces: 1)

    static let hubBytes: [UInt8] =
        field("/sys/devices/pci0000:00/0000:00:14.0/usb3/3-2", 256)
        + field("3-2", 32)
        + [0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x05]
        + [0x09, 0xfb, 0x68, 0x10, 0xab, 0xcd]
        + [0xef, 0x02, 0x01, 0x02, 0x03, 0x01]
}
