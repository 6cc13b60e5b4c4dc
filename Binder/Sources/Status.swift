/// `status`: one line per USB device (root hubs excluded).
///
/// ```
/// BUSID      ID         DRIVER        EXPORT     NAME
/// 1-1.3      0403:6010  usbip-host    available  arty-a7-1
/// 1-1.4      046d:c52b  usb           -          -
/// ```
/// EXPORT is `usbip_status` spelled out (available, in-use, error) for devices
/// bound to usbip-host, `hub` for hubs, `-` otherwise. A board in use that the running
/// `serve` handed over gets a line below it: `  held by 192.0.2.7:51234 since
/// 2026-12-05T22:40:01Z`; when a board is in use and serve did not answer (HolderQuery), a
/// last line says holders are unknown. A last line lists stale `match_busid` entries when there are any.
struct Status {
    let sysfs: Sysfs
    let config: BinderConfig
    /// Each board's state and holder, from the running serve; nil: it did not answer.
    var holders: [USBIPBoardHolder]? = nil

    func lines() -> [String] {
        var out = [row("BUSID", "ID", "DRIVER", "EXPORT", "NAME")]
        var anyInUse = false
        for dev in SysfsDevice.all(sysfs) {
            let vendor = UInt16(truncatingIfNeeded: dev.hexAttribute("idVendor", sysfs))
            let product = UInt16(truncatingIfNeeded: dev.hexAttribute("idProduct", sysfs))
            let driver = dev.driver(sysfs)
            let export: String
            if driver == "usbip-host" {
                switch dev.attribute("usbip_status", sysfs) {
                case "1": export = "available"
                case "2": export = "in-use"
                case "3": export = "error"
                default: export = "unknown"
                }
            } else {
                export = dev.isHub(sysfs) ? "hub" : "-"
            }
            let name = config.name(
                vendor: vendor, product: product,
                serial: dev.attribute("serial", sysfs) ?? "", busID: dev.busID)
            out.append(row(
                dev.busID, USBIP.hex(UInt32(vendor), width: 4) + ":" + USBIP.hex(UInt32(product), width: 4),
                driver.isEmpty ? "-" : driver, export, name ?? "-"))
            if export == "in-use" {
                anyInUse = true
                for board in holders ?? [] where board.busID == dev.busID {
                    if let held = HolderQuery.describe(board) { out.append("  held by " + held) }
                }
            }
        }
        if holders == nil, anyInUse {
            out.append("holders unknown: serve did not answer on 127.0.0.1:\(config.port) (not running, or loopback not allowed)")
        }
        let binding = Binding(sysfs: sysfs)
        var stale: [String] = []
        for entry in binding.matchEntries() {
            if let d = SysfsDevice(busID: entry, in: sysfs), d.driver(sysfs) == "usbip-host" { continue }
            stale.append(entry)
        }
        if !stale.isEmpty {
            var line = "stale match_busid entries:"
            for s in stale { line += " " + s }
            out.append(line)
        }
        return out
    }

    private func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String) -> String {
        pad(a, 11) + pad(b, 11) + pad(c, 14) + pad(d, 11) + e
    }

    private func pad(_ s: String, _ width: Int) -> String {
        let n = s.utf8.count
        return n >= width ? s + " " : s + String(repeating: " ", count: width - n)
    }
}
