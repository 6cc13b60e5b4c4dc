import CBinder

/// `bind` and `unbind`: moving a device between its driver and usbip-host,
/// through the files of DESIGN.md section 6.
///
/// ```
/// bind 1-1.3:   bus/usb/drivers/<current>/unbind      <- "1-1.3"
///               bus/usb/drivers/usbip-host/match_busid <- "add 1-1.3"
///               bus/usb/drivers/usbip-host/bind       <- "1-1.3"
///               then wait for devices/.../1-1.3/driver -> usbip-host
/// unbind 1-1.3: bus/usb/drivers/usbip-host/unbind     <- "1-1.3"
///               bus/usb/drivers/usbip-host/match_busid <- "del 1-1.3"
///               bus/usb/drivers/usbip-host/rebind     <- "1-1.3"  (original driver probes)
/// ```
/// Both hold an exclusive flock on the usbip-host driver directory, so two
/// udev-started binds never clean each other's fresh `match_busid` entries.
struct Binding {
    static let hostDriver = "bus/usb/drivers/usbip-host"

    let sysfs: Sysfs
    /// How long to wait for the kernel to show the new driver link.
    var settleMilliseconds: Int32 = 5000

    /// Exports `busID`. Returns the line to print; an already bound device is success.
    func bind(_ busID: String) throws(BinderError) -> String {
        try checkBusID(busID)
        let lock = try lockHostDriver()
        defer { close(lock) }
        guard let dev = SysfsDevice(busID: busID, in: sysfs) else { throw .noDevice(busID: busID) }
        if dev.isRootHub || dev.isHub(sysfs) { throw .refused(busID: busID, reason: "it is a USB hub") }
        if dev.isVHCIAttached { throw .refused(busID: busID, reason: "it is attached through vhci_hcd") }
        let original = dev.driver(sysfs)
        if original == "usbip-host" { return "\(busID) already bound to usbip-host" }

        try cleanStaleEntries(keeping: busID)
        if !original.isEmpty {
            try mapGone(busID) { () throws(BinderError) in try sysfs.write("bus/usb/drivers/\(original)/unbind", busID) }
        }
        try mapGone(busID) { () throws(BinderError) in try sysfs.write(Self.hostDriver + "/match_busid", "add " + busID) }
        do {
            try mapGone(busID) { () throws(BinderError) in try sysfs.write(Self.hostDriver + "/bind", busID) }
            try waitForHostDriver(dev)
        } catch {
            try? sysfs.write(Self.hostDriver + "/match_busid", "del " + busID)
            if !original.isEmpty, sysfs.exists(dev.dir), dev.driver(sysfs).isEmpty {
                try? sysfs.write("bus/usb/drivers/\(original)/bind", busID)
            }
            throw error
        }
        let was = original.isEmpty ? "no driver" : original
        return "\(busID) bound to usbip-host (was \(was))"
    }

    /// Stops exporting `busID`. Returns the line to print; a device not bound
    /// to usbip-host is success (after its stale `match_busid` entry, if any, is removed).
    func unbind(_ busID: String) throws(BinderError) -> String {
        try checkBusID(busID)
        let lock = try lockHostDriver()
        defer { close(lock) }
        let listed = matchEntries().contains(busID)
        guard let dev = SysfsDevice(busID: busID, in: sysfs) else {
            guard listed else { throw .noDevice(busID: busID) }
            try sysfs.write(Self.hostDriver + "/match_busid", "del " + busID)
            return "\(busID) absent; removed its stale match_busid entry"
        }
        guard dev.driver(sysfs) == "usbip-host" else {
            if listed { try sysfs.write(Self.hostDriver + "/match_busid", "del " + busID) }
            return "\(busID) not bound to usbip-host" + (listed ? "; removed its stale match_busid entry" : "")
        }
        try mapGone(busID) { () throws(BinderError) in try sysfs.write(Self.hostDriver + "/unbind", busID) }
        try mapGone(busID) { () throws(BinderError) in try sysfs.write(Self.hostDriver + "/match_busid", "del " + busID) }
        try mapGone(busID) { () throws(BinderError) in try sysfs.write(Self.hostDriver + "/rebind", busID) }
        return "\(busID) unbound from usbip-host"
    }

    /// Busids in usbip-host's table (`match_busid` reads as "1-1.3 1-1.4 ").
    func matchEntries() -> [String] {
        guard let text = sysfs.read(Self.hostDriver + "/match_busid") else { return [] }
        var out: [String] = []
        for word in text.fields(0x20) where isBusID(word) {
            out.append(word)
        }
        return out
    }

    /// Deletes table entries whose device is absent or not bound to usbip-host:
    /// leftovers of unplugged or half-bound devices that fill the 16 slots.
    private func cleanStaleEntries(keeping busID: String) throws(BinderError) {
        for entry in matchEntries() where entry != busID {
            if let d = SysfsDevice(busID: entry, in: sysfs), d.driver(sysfs) == "usbip-host" { continue }
            try sysfs.write(Self.hostDriver + "/match_busid", "del " + entry)
            Output.log("removed stale match_busid entry \(entry)")
        }
    }

    /// The kernel binds synchronously; a fake tree's test re-points the link itself.
    private func waitForHostDriver(_ dev: SysfsDevice) throws(BinderError) {
        var waited: Int32 = 0
        while true {
            guard sysfs.exists(dev.dir) && sysfs.exists("bus/usb/devices/" + dev.busID) else {
                throw .disappeared(busID: dev.busID)
            }
            let now = dev.driver(sysfs)
            if now == "usbip-host" { return }
            if waited >= settleMilliseconds { throw .bindNotTaken(busID: dev.busID, driver: now) }
            poll(nil, 0, 50)
            waited += 50
        }
    }

    /// ENODEV from a sysfs write means the device went away under us.
    private func mapGone(_ busID: String, _ body: () throws(BinderError) -> Void) throws(BinderError) {
        do {
            try body()
        } catch {
            if case .system(_, _, let e) = error, e == ENODEV { throw .disappeared(busID: busID) }
            throw error
        }
    }

    private func lockHostDriver() throws(BinderError) -> Int32 {
        let path = sysfs.path(Self.hostDriver)
        let fd = withCString(path) { binder_open($0, O_RDONLY | O_DIRECTORY) }
        guard fd >= 0 else {
            let e = binder_errno()
            if e == ENOENT { throw .driverMissing(path: path) }
            throw .system(what: "cannot open", path: path, errno: e)
        }
        while flock(fd, LOCK_EX) != 0 {
            let e = binder_errno()
            if e != EINTR {
                close(fd)
                throw .system(what: "cannot lock", path: path, errno: e)
            }
        }
        return fd
    }

    private func checkBusID(_ busID: String) throws(BinderError) {
        guard isBusID(busID) else {
            throw .usage("bad busid '\(busID)' (expected like 1-1.3)")
        }
    }
}

/// `BUS-PORT[.PORT...]`: digits, one '-', then digits and dots; under 32 bytes.
func isBusID(_ s: String) -> Bool {
    let b = Array(s.utf8)
    guard b.count < USBIP.busIDSize, let dash = b.firstIndex(of: 0x2d), dash > 0, dash < b.count - 1 else { return false }
    for (i, c) in b.enumerated() {
        let digit = c >= 0x30 && c <= 0x39
        if i < dash { if !digit { return false } } else if i > dash {
            if !(digit || c == 0x2e) { return false }
            if c == 0x2e && (b[i - 1] == 0x2e || b[i - 1] == 0x2d || i == b.count - 1) { return false }
        }
    }
    return true
}
