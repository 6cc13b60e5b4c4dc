import CBinder

/// Everything that can make usbip-binder fail, each with the exit code a
/// systemd journal reader (or a script) can act on.
///
/// | code | meaning                                            |
/// |------|----------------------------------------------------|
/// | 0    | success (also: already bound / already unbound)    |
/// | 1    | a system call or the kernel refused an operation   |
/// | 2    | usage error on the command line                    |
/// | 3    | binder.conf unreadable or invalid                  |
/// | 4    | no such device, or it disappeared mid-operation    |
/// | 5    | refused: the device is a hub or vhci-attached      |
/// | 6    | usbip-host driver not loaded                       |
enum BinderError: Error {
    case usage(String)
    case config(path: String, line: Int, message: String)
    case configUnreadable(path: String, errno: Int32)
    case system(what: String, path: String, errno: Int32)
    case noDevice(busID: String)
    case disappeared(busID: String)
    case refused(busID: String, reason: String)
    case driverMissing(path: String)
    case bindNotTaken(busID: String, driver: String)

    var exitCode: Int32 {
        switch self {
        case .system, .bindNotTaken: return 1
        case .usage: return 2
        case .config, .configUnreadable: return 3
        case .noDevice, .disappeared: return 4
        case .refused: return 5
        case .driverMissing: return 6
        }
    }

    var message: String {
        switch self {
        case .usage(let m):
            return m
        case .config(let path, let line, let m):
            return "\(path):\(line): \(m)"
        case .configUnreadable(let path, let e):
            return "cannot read \(path): \(errnoText(e))"
        case .system(let what, let path, let e):
            return "\(what) \(path): \(errnoText(e))"
        case .noDevice(let b):
            return "no USB device \(b)"
        case .disappeared(let b):
            return "device \(b) disappeared during the operation"
        case .refused(let b, let reason):
            return "refusing \(b): \(reason)"
        case .driverMissing(let path):
            return "usbip-host driver not loaded (\(path) missing): modprobe usbip-host"
        case .bindNotTaken(let b, let driver):
            return "usbip-host did not take \(b) (driver is \(driver.isEmpty ? "none" : driver))"
        }
    }
}

/// `strerror` text plus the symbolic name for the errnos a binder meets.
func errnoText(_ e: Int32) -> String {
    let text: String
    if let s = strerror(e) { text = String(cString: s) } else { text = "error" }
    return "\(text) (errno \(e))"
}
