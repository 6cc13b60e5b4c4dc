import Foundation
import USBIPWire

/// The two client operations of USB/IP, each on its own connection.
public enum USBIPRequests {
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
    public static func importDevice(_ busID: String, from server: USBIPServerAddress,
                                    timeout: Double = 5) throws(USBIPClientError) -> Imported {
        let connection = try USBIPConnection(to: server, timeout: timeout)
        try connection.send(USBIPRequest.importDevice(busID: busID).encode())
        let reply = try connection.receive(USBIPImportReply.decode)
        guard reply.status == 0, let device = reply.device else { throw .refused(busID: busID, status: reply.status) }
        guard device.busID == busID else {
            throw .protocolError("asked for \(busID), the server sent \(device.busID)")
        }
        return Imported(fd: connection.takeDescriptor(), device: device)
    }
}
