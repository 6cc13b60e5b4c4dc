import Foundation
import SystemIO
import USBIPWire

/// Errors of the USB/IP client: network, protocol and vhci sysfs failures, each with a message
/// a user can act on.
public enum USBIPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// getaddrinfo could not resolve the server name.
    case resolve(host: String, reason: String)
    /// No address of the server accepted a TCP connection in time: why the last one did not.
    case connect(host: String, port: UInt16, failure: ConnectFailure)
    /// A system call on the connection failed: `operation` says what could not be done (send,
    /// receive, poll, set the import socket's options), `errno` why.
    case socket(operation: String, errno: Errno)
    /// The server did not answer (or take what was sent) within `seconds`.
    case timedOut(seconds: Double)
    /// The server closed the connection (or reset it) before a whole reply, after `received`
    /// bytes: what stock usbipd does with a request it does not know.
    case closed(received: Int)
    /// The server's reply does not decode.
    case protocolError(String)
    /// The server answered OP_REP_* with a non-zero status.
    case refused(busID: String?, status: UInt32)
    /// The server does not export this busid.
    case noSuchBusID(String)
    /// No vhci_hcd controller under the sysfs root (module not loaded).
    case noVHCI(String)
    /// Every vhci port of the needed hub is in use.
    case noFreePort(hub: VHCIHub)
    /// A sysfs read or write failed.
    case sysfs(path: String, errno: Int32)
    /// The vhci status text has a line that does not parse.
    case badStatus(file: String, line: String)
    /// Nothing is attached on this vhci port.
    case portNotAttached(Int)
    /// Loading vhci-hcd needs root.
    case notRoot(String)

    public var description: String {
        switch self {
        case .resolve(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .connect(let host, let port, let failure): return "cannot connect to \(host) port \(port): \(failure)"
        case .socket(let operation, let errno): return "cannot \(operation): \(errno)"
        case .timedOut(let seconds): return "the server did not answer within \(seconds) s"
        case .closed(let received): return "the server closed the connection after \(received) bytes of the reply"
        case .protocolError(let what): return "bad USB/IP reply: \(what)"
        case .refused(let busID, let status):
            let name = USBIPStatus(rawValue: status).map { "\($0)" } ?? "status \(status)"
            return busID.map { "server refused to export \($0): \(name)" } ?? "server refused the request: \(name)"
        case .noSuchBusID(let busID): return "the server does not export \(busID)"
        case .noVHCI(let what): return what
        case .noFreePort(let hub):
            return "no free vhci \(hub == .high ? "USB 2 (hs)" : "USB 3 (ss)") port; detach a board or build vhci-hcd with more ports (fpga-lab client-recipe)"
        case .sysfs(let path, let errno):
            let hint = errno == EACCES || errno == EPERM ? " (vhci attach and detach need root)" : ""
            return "\(path): \(String(cString: strerror(errno)))\(hint)"
        case .badStatus(let file, let line): return "\(file): cannot parse vhci status line '\(line)'"
        case .portNotAttached(let port): return "vhci port \(port) has nothing attached"
        case .notRoot(let what): return what
        }
    }
}

/// Why a TCP connection to one of the server's addresses failed.
public enum ConnectFailure: Equatable, Sendable, CustomStringConvertible {
    /// socket(2) or connect(2) failed, or the connection was refused or reset (SO_ERROR).
    case errno(Errno)
    /// The connection was not established within `seconds`.
    case timedOut(seconds: Double)
    /// getaddrinfo gave no address.
    case noAddress

    public var description: String {
        switch self {
        case .errno(let errno): "\(errno)"
        case .timedOut(let seconds): "timed out after \(seconds) s"
        case .noAddress: "no address"
        }
    }
}
