import LabConfig
import USBIPWire

extension Device {
    /// True when a remote device is this board: its vendor:product is one of ``ids``
    /// (`also:` included) and, when the config pins a `port:`, the busid is that port.
    /// (`serial:` is not on the USB/IP wire, so it cannot take part.)
    public func matches(busID: String, vendor: UInt16, product: UInt16) -> Bool {
        if let port, port != busID { return false }
        return ids.contains { $0.vendorValue == vendor && $0.productValue == product }
    }

    /// ``matches(busID:vendor:product:)`` for a device of OP_REP_DEVLIST.
    public func matches(_ exported: USBIPDevice) -> Bool {
        matches(busID: exported.busID, vendor: exported.idVendor, product: exported.idProduct)
    }

    /// ``matches(busID:vendor:product:)`` for an attachment record; a record without IDs
    /// (written by usbip) matches by a pinned `port:` only.
    public func matches(_ record: PortRecords.Record) -> Bool {
        guard let vendor = record.vendor, let product = record.product else { return port == record.busID }
        return matches(busID: record.busID, vendor: vendor, product: product)
    }
}

extension Lab {
    /// The board a remote device is, if any.
    public func device(for exported: USBIPDevice) -> Device? {
        devices.first { $0.matches(exported) }
    }

    /// The board an attachment record is, if any.
    public func device(for record: PortRecords.Record) -> Device? {
        devices.first { $0.matches(record) }
    }
}
