import Foundation
import Testing
import TestSupport
import USBIPClient

/// A fake server-side sysfs tree for usbip-binder (DESIGN.md section 6): boards under a hub,
/// bound to usbip-host (`driver` link, `usbip_status` 1, empty `usbip_sockfd`).
struct FakeServerTree {
    struct Board {
        var busID: String
        var vendor: String
        var product: String
        var bcd: String = "0700"
        var deviceClass: String = "00"
        var speed: String = "480"
        var interfaces: [String] = ["ff/ff/ff"]
    }

    let root: URL
    static let base = "devices/platform/soc/usb1/1-1"

    init(_ boards: [Board], in scratch: URL) throws {
        root = scratch.appendingPathComponent("server-sys")
        let fm = FileManager.default
        for driver in ["usb", "hub", "usbip-host"] {
            try fm.createDirectory(at: root.appendingPathComponent("bus/usb/drivers/\(driver)"), withIntermediateDirectories: true)
        }
        try fm.createDirectory(at: root.appendingPathComponent("bus/usb/devices"), withIntermediateDirectories: true)
        for name in ["bind", "unbind", "match_busid", "rebind"] { try attr("bus/usb/drivers/usbip-host/\(name)", "") }
        for (n, board) in boards.enumerated() {
            let dir = "\(Self.base)/\(board.busID)"
            try attr("\(dir)/idVendor", board.vendor + "\n")
            try attr("\(dir)/idProduct", board.product + "\n")
            try attr("\(dir)/bcdDevice", board.bcd + "\n")
            try attr("\(dir)/bDeviceClass", board.deviceClass + "\n")
            try attr("\(dir)/bDeviceSubClass", "00\n")
            try attr("\(dir)/bDeviceProtocol", "00\n")
            try attr("\(dir)/bConfigurationValue", "1\n")
            try attr("\(dir)/bNumConfigurations", "1\n")
            try attr("\(dir)/bNumInterfaces", String(format: "%2ld\n", board.interfaces.count))
            try attr("\(dir)/busnum", "1\n")
            try attr("\(dir)/devnum", "\(n + 3)\n")
            try attr("\(dir)/speed", board.speed + "\n")
            try attr("\(dir)/usbip_status", "1\n")
            try attr("\(dir)/usbip_sockfd", "")
            for (i, triple) in board.interfaces.enumerated() {
                let parts = triple.split(separator: "/").map(String.init)
                let ifdir = "\(dir)/\(board.busID):1.\(i)"
                try attr("\(ifdir)/bInterfaceClass", parts[0] + "\n")
                try attr("\(ifdir)/bInterfaceSubClass", parts[1] + "\n")
                try attr("\(ifdir)/bInterfaceProtocol", parts[2] + "\n")
            }
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("\(dir)/driver").path,
                                      withDestinationPath: "../../../../../../bus/usb/drivers/usbip-host")
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("bus/usb/devices/\(board.busID)").path,
                                      withDestinationPath: "../../../\(dir)")
        }
    }

    func attr(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// Sets `usbip_status` as usbip-host does: 2 once it took a socket, 1 when free again.
    func setStatus(_ busID: String, _ status: Int) throws {
        try attr("\(Self.base)/\(busID)/usbip_status", "\(status)\n")
    }

    /// What the binder handed over for `busID` (the socket fd number), "" when nothing.
    func sockfd(_ busID: String) -> String {
        ((try? String(contentsOf: root.appendingPathComponent("\(Self.base)/\(busID)/usbip_sockfd"), encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// usbip-binder serving a fake tree on a loopback port (built by `make -f mk/binder.mk binder`).
final class BinderServer {
    static var binary: String { Project.root.appendingPathComponent("build/binder/x86_64/usbip-binder").path }
    let process: ProcessRunner.Background
    let port: UInt16

    /// Serves `tree` on `port`, or when nil on a port the kernel picks: `--port 0`, and the
    /// binder names the port it bound in its "listening on port N (...)" line.
    init(tree: FakeServerTree, port fixed: UInt16? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            Issue.record("\(Self.binary) is missing: run `make -f mk/binder.mk binder` first")
            throw CocoaError(.fileNoSuchFile)
        }
        let process = try ProcessRunner.Background(Self.binary, ["--sysfs-root", tree.root.path, "serve", "--port", String(fixed ?? 0)])
        var bound: UInt16?
        // It says so once it listens; or it exits (a fixed port was taken).
        try Wait.until("usbip-binder listens", context: { process.output }) {
            bound = Self.listeningPort(in: process.output)
            return !process.isRunning || bound != nil
        }
        guard process.isRunning, let bound, bound != 0, fixed == nil || bound == fixed else {
            Issue.record("usbip-binder is not serving on \(fixed.map(String.init) ?? "a port the kernel picked"):\n\(process.output)")
            throw CocoaError(.executableLoad)
        }
        (self.process, self.port) = (process, bound)
    }

    /// N of usbip-binder's "listening on port N (" log line, once it is there.
    static func listeningPort(in output: String) -> UInt16? {
        guard let range = output.range(of: "listening on port ") else { return nil }
        let rest = output[range.upperBound...]
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard rest.dropFirst(digits.count).hasPrefix(" (") else { return nil }
        return UInt16(digits)
    }

    /// SIGKILL: the server vanishes as on a crash or power loss.
    func stop() { process.stop() }

    deinit { stop() }
}

/// A TCP socket bound to a loopback port the kernel picked, and not listening: while it is
/// open, nobody else gets the port and a connection to it is refused.
final class LoopbackSocket {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        try #require(descriptor >= 0, "socket: \(String(cString: strerror(errno)))")
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, len) } }
        try #require(bound == 0, "bind 127.0.0.1:0: \(String(cString: strerror(errno)))")
        let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &len) } }
        try #require(named == 0, "getsockname: \(String(cString: strerror(errno)))")
        port = UInt16(bigEndian: addr.sin_port)
    }

    deinit { close(descriptor) }
}

/// A fake client vhci tree (vhci_hcd.0 with `nports`, `attach`, `detach`, `status`) and the
/// kernel's part of it: an attach write marks the port used, a detach or a dropped server
/// frees it, in the exact text format of vhci_sysfs.c.
///
/// For another process (the `fpga-lab` binary), `attach`, `detach` and `status` are FIFOs served
/// by threads of the test. The kernel applies an attach before write(2) returns; a FIFO cannot,
/// so the fake does the next best thing: every read of `status` first applies whatever
/// attach/detach writes are already in their pipes (a writer's write(2) has returned before it
/// opens `status`), and a poll thread applies them in between. In-process, they are regular
/// files applied by ``poll()`` right after each write (``KernelSysfs``).
///
/// One lock guards the ports, the running flag and the pipes: a drain and the status text
/// that follows it are taken under it together, so a status read never misses a write that
/// the poll thread is applying.
final class FakeVHCIKernel: @unchecked Sendable {
    let root: URL
    let hcPorts: Int
    let fifos: Bool
    private let lock = NSLock()
    private var used: [Int: (speed: UInt32, devid: UInt32, sockfd: UInt32)] = [:]
    private var running = false
    private var pipes: [String: Int32] = [:]

    init(in scratch: URL, hcPorts: Int = 8, fifos: Bool = false) throws {
        root = scratch.appendingPathComponent("client-sys")
        self.hcPorts = hcPorts
        self.fifos = fifos
        try FileManager.default.createDirectory(at: host, withIntermediateDirectories: true)
        try "\(hcPorts * 2)\n".write(to: host.appendingPathComponent("nports"), atomically: true, encoding: .utf8)
        for name in ["attach", "detach"] + (fifos ? ["status"] : []) {
            let path = host.appendingPathComponent(name).path
            if fifos {
                guard mkfifo(path, 0o600) == 0 else { throw CocoaError(.fileWriteUnknown) }
            } else {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
        }
        if fifos {
            // Held open read-write: writers never block and their bytes wait in the pipe.
            for name in ["attach", "detach"] {
                let fd = open(host.appendingPathComponent(name).path, O_RDWR | O_NONBLOCK)
                guard fd >= 0 else { throw CocoaError(.fileReadUnknown) }
                pipes[name] = fd
            }
        }
        try render()
    }

    deinit {
        for fd in pipes.values { close(fd) }
    }

    var host: URL { root.appendingPathComponent("devices/platform/vhci_hcd.0") }
    var usedPorts: [Int] { lock.withLock { used.keys.sorted() } }

    func render() throws {
        guard !fifos else { return }
        try statusText().write(to: host.appendingPathComponent("status"), atomically: true, encoding: .utf8)
    }

    func statusText() -> String { lock.withLock { lockedStatusText() } }

    /// `"<port> <sockfd> <devid> <speed>"` written to attach.
    func applyAttach(_ text: String) throws {
        lock.withLock { lockedAttach(text) }
        try render()
    }

    /// `"<port>"` written to detach.
    func applyDetach(_ text: String) throws {
        lock.withLock { lockedDetach(text) }
        try render()
    }

    /// Regular-file mode: applies and empties pending writes.
    func poll() throws {
        for (name, apply) in [("attach", applyAttach), ("detach", applyDetach)] {
            let url = host.appendingPathComponent(name)
            let text = try String(contentsOf: url, encoding: .utf8)
            if !text.isEmpty {
                try apply(text)
                try Data().write(to: url)
            }
        }
    }

    /// What vhci does when the TCP connection of every port breaks.
    func dropAll() throws {
        lock.withLock { used.removeAll() }
        try render()
    }

    /// FIFO mode: a thread serving `status` (drains the pipes first) and one applying the
    /// pipes as they fill, until ``stop()``.
    func start() {
        lock.withLock { running = true }
        signal(SIGPIPE, SIG_IGN)  // a reader that left early must not kill the test process
        let status = host.appendingPathComponent("status").path
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let fd = open(status, O_WRONLY)  // blocks until a reader opens it
                guard fd >= 0 else { return }
                let text = lock.withLock {
                    lockedDrain()
                    return lockedStatusText()
                }
                _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
                close(fd)
            }
        }
        Thread.detachNewThread { [self] in
            var fds = ["attach", "detach"].compactMap { pipes[$0] }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            while lock.withLock({ running }) {
                if Glibc.poll(&fds, nfds_t(fds.count), 50) > 0 { lock.withLock { lockedDrain() } }
            }
        }
    }

    /// Ends the threads: the status server is woken by a reader that reads nothing.
    func stop() {
        lock.withLock { running = false }
        let fd = open(host.appendingPathComponent("status").path, O_RDONLY | O_NONBLOCK)
        if fd >= 0 { close(fd) }
    }

    // The `locked` functions run with `lock` held.

    private func lockedStatusText() -> String {
        var text = "hub port sta spd dev      sockfd local_busid\n"
        for i in 0..<(2 * hcPorts) {
            let hub = i < hcPorts ? "hs" : "ss"
            if let u = used[i] {
                text += "\(hub)  \(String(format: "%04ld 006 %03u %08x %06u", i, u.speed, u.devid, u.sockfd)) 3-\(i + 1)\n"
            } else {
                text += "\(hub)  \(String(format: "%04ld", i)) 004 000 00000000 000000 0-0\n"
            }
        }
        return text
    }

    private func lockedAttach(_ text: String) {
        let f = text.split(separator: " ").compactMap { UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard f.count == 4 else { return }
        used[Int(f[0])] = (speed: f[3], devid: f[2], sockfd: f[1])
    }

    private func lockedDetach(_ text: String) {
        guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        used.removeValue(forKey: port)
    }

    /// FIFO mode: applies the attach/detach bytes waiting in the pipes (one write each: the
    /// client writes each file once per status read).
    private func lockedDrain() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        for name in ["attach", "detach"] {
            guard let fd = pipes[name] else { continue }
            let count = read(fd, buffer.baseAddress, buffer.count)
            guard count > 0 else { continue }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
            if name == "attach" { lockedAttach(text) } else { lockedDetach(text) }
        }
    }
}

/// The in-process form of the fake kernel: the client's sysfs writes go to the file and the
/// kernel reacts at once (what a real vhci attach does before write(2) returns).
struct KernelSysfs: SysfsAccess {
    let kernel: FakeVHCIKernel
    let real = FileSysfs()

    func read(_ path: String) -> String? { real.read(path) }
    func list(_ directory: String) -> [String] { real.list(directory) }
    func write(_ path: String, _ text: String) throws(USBIPClientError) {
        try real.write(path, text)
        do { try kernel.poll() } catch { throw .sysfs(path: path, errno: EIO) }
    }
}
