import CBinder

/// sd_notify(3) without libsystemd: one datagram to the AF_UNIX socket named
/// by `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
enum Notify {
    /// Sends `state` (e.g. "READY=1"); returns false when there is no socket
    /// to tell or the send failed (a unit not of Type=notify has none).
    @discardableResult
    static func send(_ state: String) -> Bool {
        guard let env = getenv("NOTIFY_SOCKET") else { return false }
        var path = Array(String(cString: env).utf8)
        guard path.count >= 2, path[0] == 0x2f || path[0] == 0x40 else { return false }
        if path[0] == 0x40 { path[0] = 0 }
        var addr = sockaddr_un()
        let pathCapacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard path.count < pathCapacity else { return false }
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path[0] == 0 ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM | SOCK_CLOEXEC), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var message = state
        let sent = message.withUTF8 { buf in
            withUnsafePointer(to: &addr) { ap in
                ap.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL), sa, length)
                }
            }
        }
        return sent == message.utf8.count
    }
}
