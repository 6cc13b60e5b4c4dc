/// One USB device as sysfs shows it under `bus/usb/devices/BUSID`.
///
/// ```
/// bus/usb/devices/1-1.3 -> ../../../devices/platform/soc/usb1/1-1/1-1.3
/// devices/platform/soc/usb1/1-1/1-1.3/
///     idVendor idProduct bcdDevice          %04x
///     bDeviceClass bDeviceSubClass ...      %02x
///     bConfigurationValue bNumConfigurations busnum devnum   %u
///     bNumInterfaces                        %2d
///     speed serial  driver -> .../bus/usb/drivers/NAME
///     usbip_status                          (only while bound to usbip-host)
///     1-1.3:1.0/bInterfaceClass ...         %02x
/// ```
struct SysfsDevice {
    let busID: String
    /// Device directory relative to the sysfs root (`devices/...`).
    let dir: String

    /// Looks `busID` up; nil when `bus/usb/devices/BUSID` does not resolve.
    init?(busID: String, in sysfs: Sysfs) {
        guard let dir = sysfs.resolve("bus/usb/devices/" + busID) else { return nil }
        self.busID = busID
        self.dir = dir
    }

    func attribute(_ name: String, _ sysfs: Sysfs) -> String? { sysfs.read(dir + "/" + name) }

    func hexAttribute(_ name: String, _ sysfs: Sysfs) -> UInt32 {
        parseNumber(attribute(name, sysfs) ?? "", radix: 16) ?? 0
    }

    func decimalAttribute(_ name: String, _ sysfs: Sysfs) -> UInt32 {
        parseNumber(attribute(name, sysfs) ?? "", radix: 10) ?? 0
    }

    /// Name of the bound driver (`driver` link), "" when none.
    func driver(_ sysfs: Sysfs) -> String { sysfs.linkName(dir + "/driver") ?? "" }

    var isRootHub: Bool { busID.startsWith("usb") }

    func isHub(_ sysfs: Sysfs) -> Bool { hexAttribute("bDeviceClass", sysfs) == 0x09 }

    /// Devices behind a vhci_hcd (imported from another server) cannot be re-exported.
    var isVHCIAttached: Bool {
        for part in dir.fields(0x2f) where part.startsWith("vhci_hcd") { return true }
        return false
    }

    /// The device as OP_REP_DEVLIST carries it; `path` is the kernel's
    /// view (`/sys/devices/...`) whatever the sysfs root.
    func exported(_ sysfs: Sysfs) -> USBIPExportedDevice {
        let device = USBIPDevice(
            path: "/sys/" + dir, busID: busID,
            busnum: decimalAttribute("busnum", sysfs),
            devnum: decimalAttribute("devnum", sysfs),
            speed: USBSpeed(sysfs: attribute("speed", sysfs) ?? "").rawValue,
            idVendor: UInt16(truncatingIfNeeded: hexAttribute("idVendor", sysfs)),
            idProduct: UInt16(truncatingIfNeeded: hexAttribute("idProduct", sysfs)),
            bcdDevice: UInt16(truncatingIfNeeded: hexAttribute("bcdDevice", sysfs)),
            deviceClass: UInt8(truncatingIfNeeded: hexAttribute("bDeviceClass", sysfs)),
            deviceSubClass: UInt8(truncatingIfNeeded: hexAttribute("bDeviceSubClass", sysfs)),
            deviceProtocol: UInt8(truncatingIfNeeded: hexAttribute("bDeviceProtocol", sysfs)),
            configurationValue: UInt8(truncatingIfNeeded: decimalAttribute("bConfigurationValue", sysfs)),
            numConfigurations: UInt8(truncatingIfNeeded: decimalAttribute("bNumConfigurations", sysfs)),
            numInterfaces: 0)
        return USBIPExportedDevice(device: device, interfaces: interfaces(sysfs))
    }

    /// Interface directories `BUSID:C.I`, in interface-number order.
    private func interfaces(_ sysfs: Sysfs) -> [USBIPInterface] {
        var found: [(UInt32, USBIPInterface)] = []
        for name in sysfs.list(dir) where name.startsWith(busID + ":") {
            let number = parseNumber(lastComponentAfterDot(name), radix: 10) ?? 0
            let sub = dir + "/" + name + "/"
            let iface = USBIPInterface(
                interfaceClass: UInt8(truncatingIfNeeded: parseNumber(sysfs.read(sub + "bInterfaceClass") ?? "", radix: 16) ?? 0),
                interfaceSubClass: UInt8(truncatingIfNeeded: parseNumber(sysfs.read(sub + "bInterfaceSubClass") ?? "", radix: 16) ?? 0),
                interfaceProtocol: UInt8(truncatingIfNeeded: parseNumber(sysfs.read(sub + "bInterfaceProtocol") ?? "", radix: 16) ?? 0))
            found.append((number, iface))
        }
        found.sort { $0.0 < $1.0 }
        return found.map { $0.1 }
    }

    /// Every USB device (not root hubs, not interfaces) under `bus/usb/devices`.
    static func all(_ sysfs: Sysfs) -> [SysfsDevice] {
        var devices: [SysfsDevice] = []
        for name in sysfs.list("bus/usb/devices") where !name.has(0x3a) && !name.startsWith("usb") {
            if let d = SysfsDevice(busID: name, in: sysfs) { devices.append(d) }
        }
        return devices
    }
}

/// Text after the last '.', e.g. "1-1.3:1.2" -> "2".
private func lastComponentAfterDot(_ s: String) -> String {
    s.fields(0x2e).last ?? ""
}

/// Unsigned number in `radix`, leading blanks allowed (`%2d` prints " 1"); nil if not a number.
/// (`ASCIIBytes` is BinderConf's, compiled into the binder.)
func parseNumber(_ text: String, radix: UInt32) -> UInt32? {
    let bytes = ASCIIBytes.bytes(text)
    guard let first = bytes.firstIndex(where: { $0 != 0x20 }) else { return nil }
    return ASCIIBytes.number(bytes[first...], radix: radix)
}
