import LabConfig

/// The lines of the client udev rule (`99-fpga-lab-client.rules`): one per board ID, matching
/// the tty of an attached board by the IDs (and serial) of the USB device above it.
///
/// ```
/// usb device 3-1  (idVendor, idProduct, serial)   <- ATTRS{...} matches here, a parent
///  └─ interface 3-1:1.1
///      └─ ttyUSB1  (SUBSYSTEM=="tty")              <- the device the rule runs for
/// ```
///
/// A device's `port:` is not used: on the client every board sits behind a vhci port whose
/// number depends on the order of attaching.
enum ClientUdevRules {
    static func rules(for devices: [Device]) -> [[String: Any]] {
        var rules: [[String: Any]] = []
        for device in devices {
            for (index, id) in device.ids.enumerated() {
                var rule: [String: Any] = ["name": device.name, "vendor": id.vendor, "product": id.product]
                if index > 0 { rule["note"] = "also: \(id)" }
                if let serial = device.serial { rule["serial"] = serial }
                rules.append(rule)
            }
        }
        return rules
    }
}
