import CLinux
import Foundation
import SystemIO
import USBIPWire

/// The client operations, each on its own connection: USB/IP's two, and fpga-lab's holders
/// request (usbip-binder answers it; stock usbipd closes the connection).
public enum USBIPRequests {
    /// Seconds after which a vanished server is given up and the vhci port freed, unless the
    /// caller says otherwise (the same default as the binder's `dead_peer_timeout`).
    public static let defaultDeadPeerTimeout = 30

    /// OP_REQ_DEVLIST: the devices `server` exports, with their interfaces.
    public static func devlist(_ server: USBIPServerAddress, timeout: Double = 5) throws(USBIPClientError) -> [USBIPExportedDevice] {
        let connection = try USBIPConnection(to: server, timeout: timeout)
        try connection.send(USBIPRequest.devlist.encode())
        let reply = try connection.receive(USBIPDevlistReply.decode)
        guard reply.status == 0 else { throw .refused(busID: nil, status: reply.status) }
        return reply.devices
    }

    /// An imported device: the connected socket (now owned by the caller, to hand to vhci) and
    /// the device as the server described it.
    public struct Imported: Sendable {
        public var fd: Int32
        public var device: USBIPDevice
    }

    /// OP_REQ_IMPORT of `busID`; on success the returned socket carries the URBs from now on.
    /// Before it is returned (to go to vhci-hcd) it gets TCP_NODELAY, keepalive and
    /// TCP_USER_TIMEOUT for `deadPeerTimeout` seconds (`usbip_tune_socket`, the binder's own),
    /// so a server that vanishes frees the vhci port after about that long.
    public static func importDevice(_ busID: String, from server: USBIPServerAddress, timeout: Double = 5,
                                    deadPeerTimeout: Int = defaultDeadPeerTimeout) throws(USBIPClientError) -> Imported {
        let connection = try USBIPConnection(to: server, timeout: timeout)
        try connection.send(USBIPRequest.importDevice(busID: busID).encode())
        let reply = try connection.receive(USBIPImportReply.decode)
        guard reply.status == 0, let device = reply.device else { throw .refused(busID: busID, status: reply.status) }
        guard device.busID == busID else {
            throw .protocolError("asked for \(busID), the server sent \(device.busID)")
        }
        let failed = usbip_tune_socket(connection.fd, Int32(clamping: deadPeerTimeout))
        if failed != 0 { throw .socket(operation: "set TCP keepalive and TCP_USER_TIMEOUT on the import socket", errno: Errno(failed)) }
        return Imported(fd: connection.takeDescriptor(), device: device)
    }

    /// OP_REQ_HOLDERS: each exported board's state and who holds it, or nil when the server
    /// closed the connection without an answer (stock usbipd does not know the request).
    public static func holders(_ server: USBIPServerAddress, timeout: Double = 5) throws(USBIPClientError) -> [USBIPBoardHolder]? {
        let connection = try USBIPConnection(to: server, timeout: timeout)
        try connection.send(USBIPRequest.holders.encode())
        do {
            return try connection.receive(USBIPHoldersReply.decode).boards
        } catch .closed(received: 0) {
            return nil
        }
    }
}
