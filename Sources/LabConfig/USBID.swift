/// A USB vendor:product pair, kept as the 4 lowercase hex digits udev compares against
/// (`ATTR{idVendor}=="0403"`).
public struct USBID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let vendor: String
    public let product: String

    /// Accepts exactly 4 hex digits per field, any case; stores them lowercase.
    public init?(vendor: String, product: String) {
        guard USBID.isHex4(vendor), USBID.isHex4(product) else { return nil }
        self.vendor = vendor.lowercased()
        self.product = product.lowercased()
    }

    public static func isHex4(_ text: String) -> Bool {
        text.utf8.count == 4 && text.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit }
    }

    public var vendorValue: UInt16 { UInt16(vendor, radix: 16)! }
    public var productValue: UInt16 { UInt16(product, radix: 16)! }

    public var description: String { "\(vendor):\(product)" }

    public static func < (a: USBID, b: USBID) -> Bool { (a.vendor, a.product) < (b.vendor, b.product) }
}
