import Foundation
import USBIPWire

/// Attach and detach remote USB devices: USB/IP import over TCP, then the vhci sysfs attach.
public struct USBIPClient: Sendable {
    public let vhci: VHCIDriver
    public let records: PortRecords
    /// Seconds for connecting and for each reply.
    public let timeout: Double
    /// Seconds after which an imported board's server is given up (keepalive,
    /// TCP_USER_TIMEOUT on the socket vhci-hcd gets).
    public let deadPeerTimeout: Int

    public init(vhci: VHCIDriver = VHCIDriver(), records: PortRecords = PortRecords(), timeout: Double = 5,
                deadPeerTimeout: Int = USBIPRequests.defaultDeadPeerTimeout) {
        self.vhci = vhci
        self.records = records
        self.timeout = timeout
        self.deadPeerTimeout = deadPeerTimeout
    }

    /// One attachment made by ``attach(busID:from:)``.
    public struct Attachment: Equatable, Sendable {
        public var port: Int
        public var busID: String
        public var device: USBIPDevice
    }

    /// Imports `busID` from `server` and attaches it to a free vhci port of its speed.
    public func attach(busID: String, from server: USBIPServerAddress) throws(USBIPClientError) -> Attachment {
        try vhci.ensureLoaded()
        let imported = try USBIPRequests.importDevice(busID, from: server, timeout: timeout, deadPeerTimeout: deadPeerTimeout)
        // vhci takes its own reference to the socket; ours is closed either way.
        defer { close(imported.fd) }
        let device = imported.device
        let port = try vhci.attach(sockfd: imported.fd, devid: device.busnum << 16 | device.devnum, speed: device.speed)
        try records.save(.init(port: port, host: server.host, tcpPort: server.port, busID: busID,
                               vendor: device.idVendor, product: device.idProduct))
        return Attachment(port: port, busID: busID, device: device)
    }

    /// Detaches whatever sits on vhci `port` and forgets its record.
    public func detach(port: Int) throws(USBIPClientError) {
        try vhci.detach(port: port)
        records.remove(port: port)
    }

    /// One used vhci port with what is known about it.
    public struct Attached: Equatable, Sendable {
        public var port: VHCIPort
        /// Server and busid, when an attach of this tool (or usbip) recorded them.
        public var record: PortRecords.Record?
        /// /dev nodes the device brought (`ttyUSB0`, ...).
        public var deviceNodes: [String]
    }

    /// Every port with a device on it.
    public func attached() throws(USBIPClientError) -> [Attached] {
        try vhci.ports().filter(\.isInUse).map { port in
            Attached(port: port, record: records.load(port: port.port),
                     deviceNodes: vhci.deviceNodes(localBusID: port.localBusID))
        }
    }
}
