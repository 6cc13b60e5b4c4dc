import BinderConf
import BootFiles

/// A decoded and validated lab config (`lab.yaml`, DESIGN.md section 3).
public struct Lab: Equatable, Sendable {
    public var name: String
    public var server: Server
    public var devices: [Device]
    public var client: Client?

    public init(name: String, server: Server, devices: [Device], client: Client?) {
        self.name = name
        self.server = server
        self.devices = devices
        self.client = client
    }

    /// The hostname the Pi gets: `server.hostname`, else the lab name.
    public var hostname: String { server.hostname ?? name }
}

/// Which program serves USB/IP on the Pi.
public enum Daemon: String, CaseIterable, Sendable {
    /// usbip-binder, the static binary fpga-lab bakes into the image.
    case binder
    /// `usbipd` and `usbip bind` from Debian's `usbip` package (must be in the image).
    case usbipd

    /// Used when `server.daemon` is not given: the image then needs no extra package.
    public static let `default`: Daemon = .binder
}

public struct Server: Equatable, Sendable {
    public var board: Board
    public var hostname: String?
    public var port: Int
    public var daemon: Daemon
    /// Clients allowed to connect; empty means loopback only.
    public var allow: [CIDR]
    public var ssh: SSH?
    /// A fixed address for the wired port (nil: the image's default, DHCP).
    public var network: Network?
    /// Kernel modules kept off the boards (`blacklist X` in modprobe.d).
    public var blacklist: [String]
    /// Seconds after which usbip-binder gives up on a client that vanished and frees its board
    /// (keepalive and TCP_USER_TIMEOUT on the handed-over socket; binder.conf
    /// `dead_peer_timeout`). usbipd has no such setting.
    public var deadPeerTimeout: Int
    public static let defaultDeadPeerTimeout = Int(BinderConfig.defaultDeadPeerTimeout)
    public static let deadPeerTimeoutRange = Int(BinderConfig.deadPeerTimeoutRange.lowerBound)...Int(BinderConfig.deadPeerTimeoutRange.upperBound)

    public init(board: Board, hostname: String? = nil, port: Int = 3240, daemon: Daemon = .default,
                allow: [CIDR] = [], ssh: SSH? = nil, blacklist: [String] = [], deadPeerTimeout: Int = Server.defaultDeadPeerTimeout) {
        self.board = board
        self.hostname = hostname
        self.port = port
        self.daemon = daemon
        self.allow = allow
        self.ssh = ssh
        self.blacklist = blacklist
        self.deadPeerTimeout = deadPeerTimeout
    }
}

public struct SSH: Equatable, Sendable {
    public var user: String
    public var authorizedKeys: [String]

    public init(user: String, authorizedKeys: [String]) {
        self.user = user
        self.authorizedKeys = authorizedKeys
    }
}

/// One FPGA board: the IDs it shows (before and after firmware load) and how to tell it apart.
public struct Device: Equatable, Sendable {
    public var name: String
    public var id: USBID
    public var serial: String?
    /// Physical port path, the kernel name of the device (`1-1.3`).
    public var port: String?
    /// Other IDs of the same board (e.g. before its firmware is loaded).
    public var also: [USBID]

    public init(name: String, id: USBID, serial: String? = nil, port: String? = nil, also: [USBID] = []) {
        self.name = name
        self.id = id
        self.serial = serial
        self.port = port
        self.also = also
    }

    /// The main ID first, then the `also:` IDs in the order given.
    public var ids: [USBID] { [id] + also }
}

public struct Client: Equatable, Sendable {
    public var server: String?
    /// vhci ports the client needs.
    public var ports: Int

    public init(server: String?, ports: Int) {
        self.server = server
        self.ports = ports
    }
}
