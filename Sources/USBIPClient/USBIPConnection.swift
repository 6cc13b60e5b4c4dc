import Foundation
import Glibc
import SystemIO
import USBIPWire

/// Where a USB/IP server listens: a host name or address and a TCP port.
public struct USBIPServerAddress: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16 = USBIP.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST`, `HOST:PORT`, `[V6]` or `[V6]:PORT`; a bare IPv6 address (two colons or
    /// more) has no port. Nil when the port is not a number in 1...65535.
    public init?(parsing text: String, defaultPort: UInt16 = USBIP.defaultPort) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { self.init(host: host, port: defaultPort); return }
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), port > 0 else { return nil }
            self.init(host: host, port: port)
            return
        }
        let colons = text.filter { $0 == ":" }.count
        if colons == 1, let colon = text.firstIndex(of: ":") {
            guard let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
            self.init(host: String(text[..<colon]), port: port)
            return
        }
        guard !text.isEmpty else { return nil }
        self.init(host: text, port: defaultPort)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// One TCP connection to a USB/IP server. Each connection carries one request: the server
/// closes it after OP_REP_DEVLIST, and after a successful OP_REP_IMPORT the socket belongs to
/// the kernel (vhci) on both ends.
///
/// ```
///  client                                server
///    │ ── OP_REQ_DEVLIST (8 bytes) ──────►  │
///    │ ◄── OP_REP_DEVLIST (8+4+n*(312+4i)) ─│   then closed
///
///    │ ── OP_REQ_IMPORT (8+32 bytes) ────►  │
///    │ ◄── OP_REP_IMPORT (8 [+312]) ────────│   fd handed to vhci attach
/// ```
public final class USBIPConnection {
    /// The socket; -1 once closed or handed over with ``takeDescriptor()``.
    public private(set) var fd: Int32
    /// Seconds each send or receive may take.
    public let timeout: Double

    /// Resolves `address` with getaddrinfo (IPv6 and IPv4) and connects to the first address
    /// that accepts within `timeout` seconds.
    public init(to address: USBIPServerAddress, timeout: Double = 5) throws(USBIPClientError) {
        self.timeout = timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        // No AI_ADDRCONFIG: it hides ::1 and 127.0.0.1 on hosts whose only interface is loopback.
        let rc = getaddrinfo(address.host, String(address.port), &hints, &list)
        if rc != 0 { throw .resolve(host: address.host, reason: String(cString: gai_strerror(rc))) }
        defer { freeaddrinfo(list) }
        var lastFailure = ConnectFailure.noAddress
        var entry = list
        while let ai = entry {
            entry = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { lastFailure = .errno(.current); continue }
            if let failure = Self.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen, timeout: timeout) {
                lastFailure = failure
                close(s)
                continue
            }
            var one: Int32 = 1
            setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            fd = s
            return
        }
        throw .connect(host: address.host, port: address.port, failure: lastFailure)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// A non-blocking connect bounded by `timeout`; nil on success, else why not.
    private static func connect(_ s: Int32, _ addr: UnsafeMutablePointer<sockaddr>?, _ len: socklen_t,
                                timeout: Double) -> ConnectFailure? {
        let flags = fcntl(s, F_GETFL)
        _ = fcntl(s, F_SETFL, flags | O_NONBLOCK)
        defer { _ = fcntl(s, F_SETFL, flags) }
        if Glibc.connect(s, addr, len) == 0 { return nil }
        guard errno == EINPROGRESS else { return .errno(.current) }
        switch Self.poll(s, for: Int16(POLLOUT), timeout: timeout) {
        case .ready: break
        case .timedOut: return .timedOut(seconds: timeout)
        case .failed(let errno): return .errno(errno)
        }
        var err: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &size)
        return err == 0 ? nil : .errno(Errno(err))
    }

    /// What ``poll(_:for:timeout:)`` saw.
    private enum PollOutcome {
        case ready
        case timedOut
        case failed(Errno)
    }

    /// Waits until `events` is ready on `s`, at most `timeout` seconds in all: a signal
    /// (EINTR) resumes the wait with what is left of it.
    private static func poll(_ s: Int32, for events: Int16, timeout: Double) -> PollOutcome {
        // At most a day: a larger (or infinite) timeout would not convert to nanoseconds.
        let seconds = timeout.isNaN ? 0 : min(max(0, timeout), 86_400)
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        var p = pollfd(fd: s, events: events, revents: 0)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let left = deadline > now ? Int32(clamping: (deadline - now + 999_999) / 1_000_000) : 0
            let n = Glibc.poll(&p, 1, left)
            if n > 0 { return .ready }
            if n == 0 { return .timedOut }
            if errno != EINTR { return .failed(.current) }
        }
    }

    /// Gives up ownership of the socket (for the vhci attach); the caller closes it.
    public func takeDescriptor() -> Int32 {
        let s = fd
        fd = -1
        return s
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws(USBIPClientError) {
        var sent = 0
        while sent < bytes.count {
            try wait(for: Int16(POLLOUT))
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .socket(operation: "send", errno: .current)
            }
            sent += n
        }
    }

    /// Receives until `decode` returns a value (decoders return nil on short input).
    public func receive<T>(_ decode: ([UInt8]) throws(USBIPWireError) -> (T, Int)?) throws(USBIPClientError) -> T {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            do throws(USBIPWireError) {
                if let decoded = try decode(buffer) { return decoded.0 }
            } catch {
                throw .protocolError(error.message)
            }
            try wait(for: Int16(POLLIN))
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw .closed(received: buffer.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                if errno == ECONNRESET { throw .closed(received: buffer.count) }
                throw .socket(operation: "receive", errno: .current)
            }
            buffer += chunk[0..<n]
        }
    }

    private func wait(for events: Int16) throws(USBIPClientError) {
        guard fd >= 0 else { throw .socket(operation: "poll", errno: Errno(EBADF)) }
        switch Self.poll(fd, for: events, timeout: timeout) {
        case .ready: return
        case .timedOut: throw .timedOut(seconds: timeout)
        case .failed(let errno): throw .socket(operation: "poll", errno: errno)
        }
    }
}
