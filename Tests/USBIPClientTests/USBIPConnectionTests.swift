import Foundation
import Glibc
import SystemIO
import Testing
import USBIPWire
@testable import USBIPClient

/// A TCP socket on 127.0.0.1 that the tests drive by hand, in the test's own thread: bound
/// (refuses connections), or listening (the kernel completes a client's handshake before any
/// accept, so the client connects and then meets whatever the test does next).
private final class LoopbackPeer {
    let fd: Int32
    let port: UInt16
    private var accepted: Int32 = -1

    init(listening: Bool) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) == 0 && getsockname(s, $0, &length) == 0 }
        }
        try #require(s >= 0 && bound)
        if listening { try #require(listen(s, 4) == 0) }
        fd = s
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        if accepted >= 0 { close(accepted) }
        close(fd)
    }

    var address: USBIPServerAddress { USBIPServerAddress(host: "127.0.0.1", port: port) }

    /// Accepts the pending connection (the client connected already).
    func accept() throws {
        accepted = Glibc.accept(fd, nil, nil)
        try #require(accepted >= 0)
    }

    /// Writes `bytes` to the accepted connection.
    func write(_ bytes: [UInt8]) throws {
        try #require(bytes.withUnsafeBytes { Glibc.write(accepted, $0.baseAddress, $0.count) } == bytes.count)
    }

    /// Closes the accepted connection: with FIN, or with RST (SO_LINGER 0), as a crashed server's
    /// kernel or a firewall does.
    func closeAccepted(reset: Bool) {
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(accepted, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        close(accepted)
        accepted = -1
    }
}

/// A decoder that wants `count` bytes, as the USB/IP reply decoders do (nil on short input).
private func wants(_ count: Int) -> ([UInt8]) throws(USBIPWireError) -> ([UInt8], Int)? {
    { bytes throws(USBIPWireError) in bytes.count >= count ? (Array(bytes.prefix(count)), count) : nil }
}

/// How USBIPConnection fails against servers that refuse, stall, hang up or reset: each failure
/// a typed case (errno as a field), and the words a user reads.
@Suite struct USBIPConnectionTests {
    @Test func aPortNobodyListensOnIsRefusedWithItsErrno() throws {
        let peer = try LoopbackPeer(listening: false)
        #expect(throws: USBIPClientError.connect(host: "127.0.0.1", port: peer.port, failure: .errno(Errno(ECONNREFUSED)))) {
            _ = try USBIPConnection(to: peer.address, timeout: 5)
        }
        let error = USBIPClientError.connect(host: "127.0.0.1", port: 3240, failure: .errno(Errno(ECONNREFUSED)))
        #expect(error.description == "cannot connect to 127.0.0.1 port 3240: Connection refused")
        #expect(USBIPClientError.connect(host: "pi", port: 3240, failure: .timedOut(seconds: 5)).description
            == "cannot connect to pi port 3240: timed out after 5.0 s")
    }

    /// The server takes the connection and the request but never answers: the receive gives up
    /// after the connection's timeout, and says so.
    @Test func aServerThatNeverAnswersTimesOut() throws {
        let peer = try LoopbackPeer(listening: true)
        let connection = try USBIPConnection(to: peer.address, timeout: 0.2)
        try connection.send(USBIPRequest.devlist.encode())
        #expect(throws: USBIPClientError.timedOut(seconds: 0.2)) { _ = try connection.receive(wants(8)) }
        #expect(USBIPClientError.timedOut(seconds: 0.2).description == "the server did not answer within 0.2 s")
    }

    @Test func aServerThatHangsUpMidReplyIsClosedAfterWhatItSent() throws {
        let peer = try LoopbackPeer(listening: true)
        let connection = try USBIPConnection(to: peer.address, timeout: 5)
        try peer.accept()
        try peer.write([0x01, 0x11, 0x00, 0x05])
        peer.closeAccepted(reset: false)
        #expect(throws: USBIPClientError.closed(received: 4)) { _ = try connection.receive(wants(8)) }
    }

    @Test func aResetIsAClosedConnectionOnReceiveAndATypedErrnoOnSend() throws {
        let peer = try LoopbackPeer(listening: true)
        let connection = try USBIPConnection(to: peer.address, timeout: 5)
        try peer.accept()
        peer.closeAccepted(reset: true)
        #expect(throws: USBIPClientError.closed(received: 0)) { _ = try connection.receive(wants(8)) }
        // The RST is in; a send now fails with ECONNRESET (pending) or EPIPE, never SIGPIPE.
        do {
            try connection.send([UInt8](repeating: 0, count: 64))
            Issue.record("a send on a reset connection succeeded")
        } catch .socket(let operation, let errno) {
            #expect(operation == "send")
            #expect([Errno(ECONNRESET), Errno(EPIPE)].contains(errno), "\(errno)")
            #expect(USBIPClientError.socket(operation: operation, errno: Errno(EPIPE)).description == "cannot send: Broken pipe")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    /// After takeDescriptor (the socket went to vhci), the connection refuses to be used.
    @Test func aHandedOverConnectionIsNotUsedAgain() throws {
        let peer = try LoopbackPeer(listening: true)
        let connection = try USBIPConnection(to: peer.address, timeout: 5)
        close(connection.takeDescriptor())
        #expect(throws: USBIPClientError.socket(operation: "poll", errno: Errno(EBADF))) { try connection.send([0]) }
    }
}
