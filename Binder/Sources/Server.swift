import CBinder

/// `serve`: the USB/IP server, one thread, one poll(2) loop (which also binds hot-plugged
/// boards: Hotplug).
///
/// ```
/// accept ─► peer in allowlist? ─no─► log, close (nothing read)
///              │yes
///              ▼
///         all slots taken? ─yes─► evict the oldest connection still waiting for its
///              │no                 request (none: close the new one)
///              ▼
///         reading ──malformed / EOF / timeout──► close
///              │ OP_REQ_DEVLIST       │ OP_REQ_IMPORT busid              │ OP_REQ_HOLDERS
///              ▼                      ▼                                  ▼
///         reply: bound devices   tune the socket (usbip_tune_socket),  reply: each bound
///              │                 write fd to <dev>/usbip_sockfd,        board's state and
///              │                 remember peer + time, reply            holder (if any)
///              └──────────────────────► flush ◄──────────────────────────┘
///                                         ─► close (the kernel keeps its reference)
/// ```
///
/// Holders: a board handed over is remembered with the peer's address and the wall-clock
/// time, and forgotten (logged with how long it was held) once usbip-host reports it
/// available again, which it does when the client detaches or when TCP gives up on a dead
/// peer after `deadPeerSeconds` (keepalive and TCP_USER_TIMEOUT on the handed socket). The
/// holders are checked against sysfs before every holders request and import, and otherwise
/// every `holderCheckMilliseconds` while any board is held (for the log line; an idle server
/// should not wake often, and the data path is the kernel's).
///
/// Hostile peers (Binder/tests/hostile-peers.py proves each point):
/// - A request is at most 40 bytes and has no length field, so a connection never buffers
///   more than 40 + 256 bytes; a reply is written without reading further.
/// - At most `maxConnections` (64) clients are open: fds and memory stay bounded. Idle
///   clients cannot starve the others: a newcomer evicts the oldest connection that is
///   still waiting for its request (a real client sends it at once; an idle one only
///   holds the slot). Each round accepts at most `acceptBatch` (16) newcomers, fewer than
///   the slots, so a client whose request has arrived is read before it can be evicted.
/// - The listen backlog (`backlog`, 256) absorbs connection floods without the kernel
///   dropping SYNs (a dropped SYN costs the client a 1 s retransmit).
/// - `--timeout` closes a client that has not sent a whole request in time.
final class Server {
    struct Options {
        var port: UInt16
        var allow: [CIDR]
        var timeoutMilliseconds: Int64
        /// Seconds after which a silent client (or one whose data goes unacknowledged) is
        /// given up and its board freed (binder.conf `dead_peer_timeout`).
        var deadPeerSeconds: Int32
    }

    /// Who holds a board this server handed over.
    struct Holder {
        let busID: String
        let peer: String
        let address: [UInt8]
        let port: UInt16
        /// Unix seconds (UTC).
        let since: Int64
        /// Monotonic milliseconds of the hand-over.
        let handed: Int64
        /// usbip-host has reported the board in use since the hand-over (usbip_status 2).
        var seenInUse = false
    }

    /// A hand-over usbip-host never reported in use (it refused the socket, or the link died at
    /// once) is forgotten after this long.
    static let unconfirmedHolderMilliseconds: Int64 = 10_000
    /// How often held boards are checked when no request asks.
    static let holderCheckMilliseconds: Int64 = 10_000
    private var nextHolderCheck: Int64 = 0

    /// Clients open at once; a newcomer beyond this evicts the oldest still waiting.
    static let maxConnections = 64
    /// Connections accepted per poll round (< `maxConnections`, see above).
    static let acceptBatch = 16
    /// Pending connections the kernel queues before accept.
    static let backlog: Int32 = 256

    let sysfs: Sysfs
    let options: Options
    /// Binds the lab's boards as they are plugged (nil: hot-plug binding off).
    let hotplug: Hotplug?
    private var listener: Int32 = -1
    /// The port the listener is bound to (``Options/port``, or the kernel's pick for 0).
    private var port: UInt16 = 0
    private var connections: [Connection] = []
    /// Boards handed over and not yet reported available again (at most 16: usbip-host's
    /// limit; an array keeps the Embedded binary small).
    private var holders: [Holder] = []

    init(sysfs: Sysfs, options: Options, hotplug: Hotplug?) {
        self.sysfs = sysfs
        self.options = options
        self.hotplug = hotplug
    }

    /// Listens, tells systemd READY=1, and serves until killed.
    func run() throws(BinderError) -> Never {
        let family = try listen()
        let allowText = options.allow.isEmpty ? "loopback only" : options.allow.map { $0.description }.joined(separator: " ")
        Output.log("listening on port \(port) (\(family)); allow \(allowText); timeout \(options.timeoutMilliseconds / 1000) s; dead peers given up after \(options.deadPeerSeconds) s")
        if let hotplug {
            Output.log("hotplug: binding the lab's boards as they are plugged")
            hotplug.coldplug()
        }
        Notify.send("READY=1\nSTATUS=serving USB/IP on port \(port)")
        while true { step() }
    }

    private func listen() throws(BinderError) -> String {
        var fd = socket(AF_INET6, Int32(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK), 0)
        var family = "IPv6+IPv4"
        let where_ = "[::]:\(options.port)"
        if fd >= 0 {
            var off: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        } else {
            fd = socket(AF_INET, Int32(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK), 0)
            family = "IPv4 only"
        }
        guard fd >= 0 else { throw .system(what: "cannot create socket for", path: where_, errno: binder_errno()) }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        // As usbipd does on its listening socket (accepted sockets inherit it); set again on
        // each handed-over socket with the rest (usbip_tune_socket).
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let rc: Int32
        if family == "IPv4 only" {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = options.port.bigEndian
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = options.port.bigEndian
            rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        guard rc == 0, CBinder.listen(fd, Self.backlog) == 0 else {
            let e = binder_errno()
            close(fd)
            throw .system(what: "cannot listen on", path: where_, errno: e)
        }
        listener = fd
        port = Self.localPort(of: fd) ?? options.port
        return family
    }

    /// The port a listening socket is bound to (getsockname): the one asked for, or the one the
    /// kernel picked for port 0.
    private static func localPort(of fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &storage) {
            switch Int32($0.pointee.ss_family) {
            case AF_INET6: $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            case AF_INET: $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            default: nil
            }
        }
    }

    /// One poll round: accept, read, write, expire.
    private func step() {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        for c in connections {
            fds.append(pollfd(fd: c.fd, events: Int16(c.reply == nil ? POLLIN : POLLOUT), revents: 0))
        }
        if let hotplug { fds.append(pollfd(fd: hotplug.fd, events: Int16(POLLIN), revents: 0)) }
        let now = monotonicMilliseconds()
        var wait: Int64 = 60_000
        for c in connections { wait = min(wait, max(0, c.deadline - now)) }
        if let due = hotplug?.nextDeadline { wait = min(wait, max(0, due - now)) }
        if !holders.isEmpty { wait = min(wait, max(0, nextHolderCheck - now)) }
        let n = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), Int32(wait)) }
        if n < 0 && binder_errno() != EINTR {
            Output.log("poll failed: \(errnoText(binder_errno()))")
        }
        let after = monotonicMilliseconds()
        var keep: [Connection] = []
        for (i, c) in connections.enumerated() {
            let ev = fds[i + 1].revents
            var open = true
            if ev != 0 {
                open = c.reply == nil ? receive(c) : flush(c)
            }
            if open && after >= c.deadline {
                Output.log("\(c.peer): timeout after \(options.timeoutMilliseconds / 1000) s, closing")
                open = false
            }
            if open { keep.append(c) } else { close(c.fd) }
        }
        connections = keep
        if fds[0].revents & Int16(POLLIN) != 0 {
            var accepted = 0
            while accepted < Self.acceptBatch && accept() { accepted += 1 }
        }
        if let hotplug {
            if fds[fds.count - 1].revents != 0 { hotplug.receive(now: after) }
            hotplug.expire(now: monotonicMilliseconds())
        }
        if !holders.isEmpty, monotonicMilliseconds() >= nextHolderCheck { refreshHolders() }
    }

    /// Forgets the holders of boards usbip-host no longer reports in use. usbip-host sets
    /// usbip_status to 2 when it takes the socket and back to 1 when the connection ends
    /// (detach, or TCP giving up on a dead peer); a holder goes once 2 was seen and is gone.
    private func refreshHolders() {
        guard !holders.isEmpty else { return }
        let now = binder_wall_seconds()
        let clock = monotonicMilliseconds()
        nextHolderCheck = clock + Self.holderCheckMilliseconds
        var kept: [Holder] = []
        for var holder in holders {
            let dev = SysfsDevice(busID: holder.busID, in: sysfs)
            let inUse = dev.map { $0.driver(sysfs) == "usbip-host" && $0.attribute("usbip_status", sysfs) == "2" } ?? false
            if inUse {
                holder.seenInUse = true
                kept.append(holder)
            } else if holder.seenInUse {
                Output.log("\(holder.busID): released by \(holder.peer) after \(now - holder.since) s")
            } else if clock - holder.handed < Self.unconfirmedHolderMilliseconds {
                kept.append(holder)
            } else {
                Output.log("\(holder.busID): never reported in use after the hand-over to \(holder.peer); forgotten")
            }
        }
        holders = kept
    }

    private func holder(of busID: String) -> Holder? {
        for holder in holders where holder.busID == busID { return holder }
        return nil
    }

    /// Accepts one pending connection. False = none was pending (or accept failed).
    private func accept() -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                accept4(listener, $0, &length, Int32(SOCK_NONBLOCK | SOCK_CLOEXEC))
            }
        }
        guard fd >= 0 else { return false }
        let (address, port) = peerAddress(storage)
        let peer = (address.isEmpty ? "?" : formatPeer(address)) + ":\(port)"
        let allow = options.allow.isEmpty ? CIDR.loopback : options.allow
        guard allow.contains(where: { $0.contains(address) }) else {
            Output.log("\(peer): refused, not in allowlist")
            close(fd)
            return true
        }
        if connections.count >= Self.maxConnections {
            guard let oldest = connections.firstIndex(where: { $0.reply == nil }) else {
                Output.log("\(peer): refused, \(Self.maxConnections) connections busy replying")
                close(fd)
                return true
            }
            let victim = connections.remove(at: oldest)
            Output.log("\(victim.peer): evicted for \(peer), \(Self.maxConnections) connections open and no request yet")
            close(victim.fd)
        }
        Output.log("\(peer): connected")
        connections.append(Connection(fd: fd, peer: peer, address: address, port: port,
                                      deadline: monotonicMilliseconds() + options.timeoutMilliseconds))
        return true
    }

    /// Reads what is there; answers once a whole request arrived. False = close.
    private func receive(_ c: Connection) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 256)
        let n = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            let e = binder_errno()
            if e == EAGAIN || e == EINTR { return true }
            Output.log("\(c.peer): read failed: \(errnoText(e))")
            return false
        }
        if n == 0 {
            Output.log("\(c.peer): closed before a whole request (\(c.inbox.count) bytes)")
            return false
        }
        c.inbox.append(contentsOf: chunk[0..<n])
        let request: USBIPRequest
        do {
            guard let (r, _) = try USBIPRequest.decode(c.inbox) else { return true }
            request = r
        } catch {
            Output.log("\(c.peer): malformed request: \(error.message), closing")
            return false
        }
        switch request {
        case .devlist:
            let devices = exportedDevices()
            Output.log("\(c.peer): devlist, \(devices.count) device(s)")
            c.reply = USBIPDevlistReply(devices: devices).encode()
        case .importDevice(let busID):
            c.reply = importDevice(busID, c)
        case .holders:
            refreshHolders()
            let boards = boardHolders()
            Output.log("\(c.peer): holders, \(boards.count) board(s)")
            c.reply = USBIPHoldersReply(boards: boards).encode()
        }
        return flush(c)
    }

    /// Sends what is left of the reply. False = done (or failed): close.
    private func flush(_ c: Connection) -> Bool {
        guard let reply = c.reply else { return true }
        while c.sent < reply.count {
            let n = reply.withUnsafeBytes { raw in
                send(c.fd, raw.baseAddress! + c.sent, raw.count - c.sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                let e = binder_errno()
                if e == EAGAIN || e == EINTR { return true }
                Output.log("\(c.peer): write failed: \(errnoText(e))")
                return false
            }
            c.sent += n
        }
        return false
    }

    /// Devices bound to usbip-host, in busid order.
    private func exportedDevices() -> [USBIPExportedDevice] {
        var out: [USBIPExportedDevice] = []
        for dev in SysfsDevice.all(sysfs) where dev.driver(sysfs) == "usbip-host" {
            out.append(dev.exported(sysfs))
        }
        return out
    }

    /// Every board bound to usbip-host with its state and, when this server handed it over,
    /// who holds it since when.
    private func boardHolders() -> [USBIPBoardHolder] {
        var out: [USBIPBoardHolder] = []
        for dev in SysfsDevice.all(sysfs) where dev.driver(sysfs) == "usbip-host" {
            let state: USBIPBoardHolder.State
            switch dev.attribute("usbip_status", sysfs) {
            case "1": state = .available
            case "2": state = .inUse
            default: state = .error
            }
            var board = USBIPBoardHolder(busID: dev.busID, state: state)
            if state == .inUse, let holder = holder(of: dev.busID) {
                board.since = UInt64(holder.since)
                board.peerAddress = holder.address
                board.peerPort = holder.port
            }
            out.append(board)
        }
        return out
    }

    /// Hands the connection to usbip-host (as usbipd does: before replying).
    private func importDevice(_ busID: String, _ c: Connection) -> [UInt8] {
        func fail(_ status: USBIPStatus, _ why: String) -> [UInt8] {
            Output.log("\(c.peer): import \(busID) refused: \(why)")
            return USBIPImportReply(status: status.rawValue, device: nil).encode()
        }
        guard isBusID(busID), let dev = SysfsDevice(busID: busID, in: sysfs), dev.driver(sysfs) == "usbip-host" else {
            return fail(.noDevice, "not exported")
        }
        switch dev.attribute("usbip_status", sysfs) {
        case "1": break
        case "2":
            if let holder = holder(of: busID) {
                return fail(.deviceBusy, "in use by \(holder.peer) for \(binder_wall_seconds() - holder.since) s")
            }
            return fail(.deviceBusy, "in use")
        default: return fail(.deviceError, "usbip_status is not 1 (available)")
        }
        let tuned = usbip_tune_socket(c.fd, options.deadPeerSeconds)
        if tuned != 0 {
            Output.log("\(c.peer): cannot set TCP_NODELAY/keepalive/TCP_USER_TIMEOUT: \(errnoText(tuned)); handing the socket over as it is")
        }
        do {
            try sysfs.write(dev.dir + "/usbip_sockfd", "\(c.fd)")
        } catch {
            return fail(.deviceError, error.message)
        }
        Output.log("\(c.peer): import \(busID), socket handed to usbip-host")
        var others: [Holder] = []
        for holder in holders {
            if holder.busID != busID {
                others.append(holder)
            } else {
                // usbip-host reported it available (status 1 above): the previous holder is gone.
                Output.log("\(busID): released by \(holder.peer) after \(binder_wall_seconds() - holder.since) s")
            }
        }
        holders = others + [Holder(busID: busID, peer: c.peer, address: c.address, port: c.port,
                                   since: binder_wall_seconds(), handed: monotonicMilliseconds())]
        return USBIPImportReply(status: 0, device: dev.exported(sysfs).device).encode()
    }
}
