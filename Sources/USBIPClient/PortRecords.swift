import Foundation
import USBIPWire

/// What is attached where, remembered the way usbip(8) does: one file `portN` per vhci port in
/// a state directory (default `/var/run/vhci_hcd`), holding `HOST TCPPORT BUSID\n`. `usbip port`
/// reads the same files, so both tools show the remote side of each other's attachments.
/// This tool appends the device's `VVVV:PPPP` as a fourth field (usbip's `sscanf("%s %s %s")`
/// ignores it), so a board is recognised by name without asking the server.
public struct PortRecords: Sendable {
    /// One attachment: vhci port and the server-side busid.
    public struct Record: Equatable, Sendable {
        public var port: Int
        public var host: String
        public var tcpPort: UInt16
        public var busID: String
        /// idVendor, idProduct of the device when it was attached (absent in usbip's records).
        public var vendor: UInt16?
        public var product: UInt16?

        public init(port: Int, host: String, tcpPort: UInt16, busID: String,
                    vendor: UInt16? = nil, product: UInt16? = nil) {
            self.port = port
            self.host = host
            self.tcpPort = tcpPort
            self.busID = busID
            self.vendor = vendor
            self.product = product
        }
    }

    public let directory: String

    public init(directory: String = "/var/run/vhci_hcd") {
        self.directory = directory
    }

    /// Records the attachment on `port` (replacing whatever was there).
    public func save(_ record: Record) throws(USBIPClientError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var line = "\(record.host) \(record.tcpPort) \(record.busID)"
            if let v = record.vendor, let p = record.product {
                line += " \(USBIP.hex(UInt32(v), width: 4)):\(USBIP.hex(UInt32(p), width: 4))"
            }
            try (line + "\n")
                .write(toFile: path(record.port), atomically: true, encoding: .utf8)
        } catch {
            throw .sysfs(path: path(record.port), errno: EIO)
        }
    }

    /// The record of `port`, nil when there is none or it does not parse.
    public func load(port: Int) -> Record? {
        guard let text = try? String(contentsOfFile: path(port), encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard fields.count >= 3, let tcpPort = UInt16(fields[1]) else { return nil }
        var record = Record(port: port, host: fields[0], tcpPort: tcpPort, busID: fields[2])
        if fields.count >= 4 {
            let id = fields[3].split(separator: ":")
            if id.count == 2 {
                record.vendor = UInt16(id[0], radix: 16)
                record.product = UInt16(id[1], radix: 16)
            }
        }
        return record
    }

    public func remove(port: Int) {
        try? FileManager.default.removeItem(atPath: path(port))
    }

    func path(_ port: Int) -> String { directory + "/port\(port)" }
}
