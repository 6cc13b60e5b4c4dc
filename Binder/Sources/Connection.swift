import CBinder

/// One client connection.
final class Connection {
    let fd: Int32
    let peer: String
    /// 16 bytes (IPv4 as IPv4-mapped) and the TCP port, for the holder record.
    let address: [UInt8]
    let port: UInt16
    let deadline: Int64
    var inbox: [UInt8] = []
    /// Set once the request is answered; then only writing remains.
    var reply: [UInt8]?
    var sent = 0

    init(fd: Int32, peer: String, address: [UInt8], port: UInt16, deadline: Int64) {
        self.fd = fd
        self.peer = peer
        self.address = address
        self.port = port
        self.deadline = deadline
    }
}

/// The peer's address as 16 bytes (IPv4 as IPv4-mapped) and its port.
func peerAddress(_ storage: sockaddr_storage) -> ([UInt8], UInt16) {
    withUnsafeBytes(of: storage) { raw in
        let family = Int32(raw.load(fromByteOffset: 0, as: sa_family_t.self))
        let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
        if family == AF_INET6 { return (Array(raw[8..<24]), port) }
        if family == AF_INET { return ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + Array(raw[4..<8]), port) }
        return ([], port)
    }
}

/// A peer's address for the log: IPv4 (also when mapped) as `a.b.c.d`, IPv6 as `[...]`.
func formatPeer(_ address: [UInt8]) -> String {
    let text = IPAddress.format(IPAddress.unmapped(address))
    return text.has(0x3a) ? "[" + text + "]" : text
}

func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
