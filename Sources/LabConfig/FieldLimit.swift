/// The longest value a string field of the lab config may hold, set by the program that reads
/// it on the Pi or the client. `YAMLReader.string` checks it before anything else looks at the
/// text, so a value too long is one short error, never a huge udev line or message.
public struct FieldLimit: Sendable {
    /// Bytes of UTF-8 (every bounded field is ASCII once valid, so also characters).
    public let bytes: Int
    /// Who sets the limit, for the error message.
    public let reason: String

    /// A DNS label (RFC 1035): the lab and device names, each label of a host name.
    public static let label = FieldLimit(bytes: 63, reason: "a host name label holds at most 63")
    /// A whole host name (RFC 1035): `server.hostname`, `client.server`.
    public static let hostname = FieldLimit(bytes: 253, reason: "a host name holds at most 253")
    /// A USB string descriptor holds 126 UTF-16 units; udev matches it as `ATTR{serial}`.
    public static let serial = FieldLimit(bytes: 126, reason: "a USB serial number holds at most 126 characters")
    /// The kernel's name for a USB device: a bus number, then a hub port per tier, at most 7
    /// tiers of 3 digits (`1-1.2.3.4.5.6`).
    public static let port = FieldLimit(bytes: 32, reason: "a USB port path is at most 32 characters")
    /// A login name as `useradd` accepts it.
    public static let user = FieldLimit(bytes: 32, reason: "a login name holds at most 32 characters")
    /// One line of `authorized_keys` (a 16384-bit RSA key is about 2.8 KiB).
    public static let authorizedKey = FieldLimit(bytes: 8192, reason: "an authorized_keys line is kept under 8 KiB")
    /// The kernel's `MODULE_NAME_LEN` (56) less its NUL.
    public static let moduleName = FieldLimit(bytes: 55, reason: "a kernel module name holds at most 55 characters")
    /// An IPv6 address in full with `/128`.
    public static let address = FieldLimit(bytes: 43, reason: "an address with its prefix is at most 43 characters")
    /// IEEE 802.11: an SSID is 0 to 32 octets.
    public static let ssid = FieldLimit(bytes: 32, reason: "an SSID holds at most 32 bytes")
    /// A WPA passphrase is at most 63 characters, a pre-shared key 64 hex digits.
    public static let psk = FieldLimit(bytes: 64, reason: "a WPA passphrase holds at most 63 characters, a key 64 hex digits")
    /// Linux's PATH_MAX.
    public static let path = FieldLimit(bytes: 4095, reason: "a path holds at most 4095 bytes")
    /// A word from a fixed list (`server.board`, `server.daemon`) or 4 hex digits.
    public static let keyword = FieldLimit(bytes: 16, reason: "it is a short keyword")
}
