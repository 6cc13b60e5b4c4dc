import CBinder

/// `status` asks the running `serve` who holds each board: OP_REQ_HOLDERS to 127.0.0.1 on
/// binder.conf's port, one second to answer. Nil when nothing answers (serve not running, or
/// loopback not in its allowlist): `status` then says holders are unknown.
enum HolderQuery {
    static func ask(port: UInt16, timeoutMilliseconds: Int32 = 1000) -> [USBIPBoardHolder]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM | SOCK_CLOEXEC), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = USBIPRequest.holders.encode()
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return nil }
        var inbox: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, timeoutMilliseconds) == 1 else { return nil }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && binder_errno() == EINTR { continue }
            guard n > 0 else { return nil }
            inbox.append(contentsOf: chunk[0..<n])
            guard inbox.count <= 8 + 4 + Int(USBIP.maxDevices) * USBIPBoardHolder.size else { return nil }
            do {
                guard let (reply, _) = try USBIPHoldersReply.decode(inbox) else { continue }
                return reply.boards
            } catch {
                return nil
            }
        }
    }

    /// "ADDRESS:PORT since 2026-12-05T22:40:01Z" for a board someone holds, else nil.
    static func describe(_ board: USBIPBoardHolder) -> String? {
        guard board.state == .inUse, board.hasHolder else { return nil }
        let address = formatPeer(board.peerAddress)
        var buffer = [CChar](repeating: 0, count: 32)
        binder_format_utc(Int64(board.since), &buffer, buffer.count)
        let since = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return address + ":\(board.peerPort) since " + since
    }
}
