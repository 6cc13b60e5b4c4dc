import CBinder

/// Hot-plug in `serve`: the server binds the lab's boards itself as the kernel announces
/// them, instead of waiting for udev to start a usbip-bind@ unit (1-2 s on a slow machine,
/// most of it systemd setting up the unit).
///
/// ```
/// kernel ── add@.../1-1.3 ──────────► a lab board? (binder.conf `device` lines, read in sysfs)
///                                          │ yes: pending, deadline now + settle (1 s)
/// kernel ── bind@.../1-1.3 DRIVER=usb ──► pending? ── yes ──► Binding.bind (same flock as bind@)
/// deadline passed, still pending ─────────────────────────► Binding.bind (no bind uevents)
/// kernel ── remove@.../1-1.3 ───────────► forget it
/// ```
/// Why wait for `bind`: the kernel sends `add` before it probes the device's driver, and a
/// bind written then races the generic driver's probe. Only devices just added are bound: a
/// board an admin gave back with `usbip-binder unbind` (its driver then sends `bind` too)
/// stays with its driver. `coldplug` binds the lab's boards already plugged when the server
/// starts, or when uevents were lost. The udev rule and usbip-bind@ stay: they bind what the
/// server missed while it was not running, and find the others already bound.
///
/// Events come from the kernel (NETLINK_KOBJECT_UEVENT, multicast group 1, messages whose
/// sender port id is not 0 are dropped: only the kernel sends as 0) or, in tests on a fake
/// sysfs tree, from an AF_UNIX datagram socket carrying the same bytes.
final class Hotplug {
    enum Source {
        case kernel
        case socket(path: String)
    }

    /// How long an added board waits for its driver's `bind` uevent.
    static let settleMilliseconds: Int64 = 1000

    /// The socket to poll for `receive`.
    let fd: Int32
    private let source: Source
    private let sysfs: Sysfs
    private let config: BinderConfig
    private var pending: [(busID: String, deadline: Int64)] = []

    init(source: Source, sysfs: Sysfs, config: BinderConfig) throws(BinderError) {
        self.source = source
        self.sysfs = sysfs
        self.config = config
        switch source {
        case .kernel: fd = try Self.openNetlink()
        case .socket(let path): fd = try Self.openSocket(path)
        }
    }

    /// Earliest deadline of a pending board, for poll's timeout.
    var nextDeadline: Int64? { pending.map { $0.deadline }.min() }

    /// Binds every lab board present and not yet bound.
    func coldplug() {
        for dev in SysfsDevice.all(sysfs) where dev.driver(sysfs) != "usbip-host" {
            guard let name = labName(dev), !dev.isHub(sysfs), !dev.isVHCIAttached else { continue }
            Output.log("hotplug: \(dev.busID) (\(name)) present, not exported")
            bind(dev.busID)
        }
    }

    /// Reads every queued uevent and acts on it.
    func receive(now: Int64) {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            var sender = binder_sockaddr_nl()
            var length = socklen_t(MemoryLayout<binder_sockaddr_nl>.size)
            let n = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &sender) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &length)
                    }
                }
            }
            if n < 0 {
                let e = binder_errno()
                if e == EINTR { continue }
                if e == ENOBUFS {
                    Output.log("hotplug: uevents lost (receive queue overflowed), rescanning")
                    coldplug()
                    continue
                }
                if e != EAGAIN { Output.log("hotplug: receiving uevents failed: \(errnoText(e))") }
                return
            }
            if case .kernel = source, sender.nl_pid != 0 { continue }
            if let event = Uevent.parse(Array(buffer[0..<n])) { handle(event, now: now) }
        }
    }

    /// Binds the pending boards whose driver never announced itself in time.
    func expire(now: Int64) {
        let due = pending.filter { $0.deadline <= now }
        guard !due.isEmpty else { return }
        pending.removeAll { $0.deadline <= now }
        for p in due {
            Output.log("hotplug: \(p.busID): no bind uevent within \(Self.settleMilliseconds) ms, binding")
            bind(p.busID)
        }
    }

    private func handle(_ event: Uevent, now: Int64) {
        guard let busID = event.usbDeviceBusID else { return }
        switch event.action {
        case "add":
            guard let dev = SysfsDevice(busID: busID, in: sysfs), let name = labName(dev) else { return }
            pending.removeAll { $0.busID == busID }
            pending.append((busID, now + Self.settleMilliseconds))
            Output.log("hotplug: \(busID) (\(name)) plugged")
        case "bind":
            guard event.driver != "usbip-host", pending.contains(where: { $0.busID == busID }) else { return }
            pending.removeAll { $0.busID == busID }
            bind(busID)
        case "remove":
            pending.removeAll { $0.busID == busID }
        default:
            break
        }
    }

    private func bind(_ busID: String) {
        do {
            Output.log("hotplug: " + (try Binding(sysfs: sysfs).bind(busID)))
        } catch {
            Output.log("hotplug: \(busID): \(error.message)")
        }
    }

    /// The binder.conf name of a device, nil when the lab does not name it.
    private func labName(_ dev: SysfsDevice) -> String? {
        config.name(
            vendor: UInt16(truncatingIfNeeded: dev.hexAttribute("idVendor", sysfs)),
            product: UInt16(truncatingIfNeeded: dev.hexAttribute("idProduct", sysfs)),
            serial: dev.attribute("serial", sysfs) ?? "", busID: dev.busID)
    }

    private static func openNetlink() throws(BinderError) -> Int32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK), BINDER_NETLINK_KOBJECT_UEVENT)
        guard fd >= 0 else { throw .system(what: "cannot open", path: "the kernel's uevent socket", errno: binder_errno()) }
        // Room for a burst (a hub with boards re-enumerating); the kernel caps it at rmem_max.
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = binder_sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        address.nl_groups = 1
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { CBinder.bind(fd, $0, socklen_t(MemoryLayout<binder_sockaddr_nl>.size)) }
        }
        guard rc == 0 else {
            let e = binder_errno()
            close(fd)
            throw .system(what: "cannot subscribe to", path: "the kernel's uevents", errno: e)
        }
        return fd
    }

    private static func openSocket(_ path: String) throws(BinderError) -> Int32 {
        var address = sockaddr_un()
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .usage("--uevents path too long: \(path)")
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK), 0)
        guard fd >= 0 else { throw .system(what: "cannot create socket for", path: path, errno: binder_errno()) }
        _ = withCString(path) { unlink($0) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { CBinder.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = binder_errno()
            close(fd)
            throw .system(what: "cannot bind", path: path, errno: e)
        }
        return fd
    }
}
