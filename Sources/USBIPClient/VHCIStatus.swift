import Foundation

/// The two root hubs of every vhci_hcd controller.
public enum VHCIHub: String, Sendable, Codable {
    /// `hs`: USB 2 hub, for low, full and high speed devices.
    case high = "hs"
    /// `ss`: USB 3 hub, for super speed (and super speed plus) devices.
    case superSpeed = "ss"

    /// The hub a device of `speed` (`enum usb_device_speed`: 1 low, 2 full, 3 high,
    /// 4 wireless, 5 super, 6 super plus) goes on, as usbip's `usbip_vhci_get_free_port`.
    public init(speed: UInt32) {
        self = speed >= 5 ? .superSpeed : .high
    }
}

/// `vdev->ud.status` as vhci prints it (`enum usbip_device_status`).
public enum VHCIPortState: UInt32, Sendable {
    case free = 4            // VDEV_ST_NULL
    case notAssigned = 5     // VDEV_ST_NOTASSIGNED
    case used = 6            // VDEV_ST_USED
    case error = 7           // VDEV_ST_ERROR
}

/// One line of a vhci `status` file.
///
/// ```
///  hub port sta spd dev      sockfd local_busid
///  hs  0000 004 000 00000000 000000 0-0              free
///  hs  0001 006 003 00010004 000003 3-1              used: speed 3, devid busnum 1 devnum 4
///  ss  0008 004 000 00000000 000000 0-0
/// ```
/// Port numbers are global: controller N owns ports N*2P ..< (N+1)*2P (P = VHCI_HC_PORTS),
/// the first P on its hs hub, the next P on its ss hub; `attach`/`detach` take these numbers.
public struct VHCIPort: Equatable, Sendable {
    public var hub: VHCIHub
    public var port: Int
    /// The raw state number; see ``VHCIPortState``.
    public var state: UInt32
    public var speed: UInt32
    /// busnum << 16 | devnum on the server.
    public var devid: UInt32
    public var sockfd: UInt32
    /// The attached device's name on this machine (`0-0` when none).
    public var localBusID: String

    public init(hub: VHCIHub, port: Int, state: UInt32, speed: UInt32 = 0, devid: UInt32 = 0,
                sockfd: UInt32 = 0, localBusID: String = "0-0") {
        self.hub = hub
        self.port = port
        self.state = state
        self.speed = speed
        self.devid = devid
        self.sockfd = sockfd
        self.localBusID = localBusID
    }

    public var isFree: Bool { state == VHCIPortState.free.rawValue }
    /// A device sits on the port (or the kernel is still tearing it down).
    public var isInUse: Bool { state != VHCIPortState.free.rawValue && state != VHCIPortState.notAssigned.rawValue }

    /// Parses one status file (header line first); `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(USBIPClientError) -> [VHCIPort] {
        var ports: [VHCIPort] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(raw)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if fields.first == "hub" { continue }
            guard fields.count == 7, let hub = VHCIHub(rawValue: fields[0]), let port = Int(fields[1]),
                  let state = UInt32(fields[2]), let speed = UInt32(fields[3]),
                  let devid = UInt32(fields[4], radix: 16) else {
                throw .badStatus(file: file, line: line)
            }
            // A controller without an hcd prints a 16-digit zero sockfd; both are numbers.
            guard let sockfd = UInt32(fields[5]) ?? (fields[5].allSatisfy { $0 == "0" } ? 0 : nil) else {
                throw .badStatus(file: file, line: line)
            }
            ports.append(VHCIPort(hub: hub, port: port, state: state, speed: speed, devid: devid,
                                  sockfd: sockfd, localBusID: fields[6]))
        }
        return ports
    }
}
