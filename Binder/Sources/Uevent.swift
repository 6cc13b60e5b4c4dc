/// One kernel uevent as the kernel multicasts it on NETLINK_KOBJECT_UEVENT (group 1):
/// a header, then NUL-terminated `KEY=VALUE` strings.
///
/// ```
/// "bind@/devices/platform/soc/usb1/1-1/1-1.3" 00          header ACTION@DEVPATH
/// "ACTION=bind" 00
/// "DEVPATH=/devices/platform/soc/usb1/1-1/1-1.3" 00
/// "SUBSYSTEM=usb" 00
/// "DEVTYPE=usb_device" 00                                  (interfaces: usb_interface)
/// "DRIVER=usb" 00                                          (bind events only)
/// "PRODUCT=403/6010/700" 00  ...  "SEQNUM=2291" 00
/// ```
/// udev's re-broadcasts (group 2) start with "libudev" and are never read here.
struct Uevent: Equatable {
    var action = ""
    var devpath = ""
    var subsystem = ""
    var devtype = ""
    var driver = ""

    /// Nil for anything that is not a kernel uevent: no `ACTION@DEVPATH` header, or a
    /// header that disagrees with the ACTION/DEVPATH keys.
    static func parse(_ bytes: [UInt8]) -> Uevent? {
        var strings = bytes.split(separator: 0, omittingEmptySubsequences: true).makeIterator()
        guard let header = strings.next(), let at = header.firstIndex(of: 0x40), at > header.startIndex else { return nil }
        var event = Uevent()
        let headerAction = String(ascii: header[header.startIndex..<at])
        let headerPath = String(ascii: header[(at + 1)...])
        while let s = strings.next() {
            guard let eq = s.firstIndex(of: 0x3d) else { continue }
            let value = String(ascii: s[(eq + 1)...])
            switch String(ascii: s[s.startIndex..<eq]) {
            case "ACTION": event.action = value
            case "DEVPATH": event.devpath = value
            case "SUBSYSTEM": event.subsystem = value
            case "DEVTYPE": event.devtype = value
            case "DRIVER": event.driver = value
            default: break
            }
        }
        guard event.action == headerAction, event.devpath == headerPath, event.devpath.startsWith("/") else { return nil }
        return event
    }

    /// The busid of a USB device event (the last DEVPATH component, e.g. "1-1.3"); nil for
    /// interfaces, root hubs and other subsystems.
    var usbDeviceBusID: String? {
        guard subsystem == "usb", devtype == "usb_device" else { return nil }
        let name = lastComponent(devpath)
        return isBusID(name) ? name : nil
    }
}
