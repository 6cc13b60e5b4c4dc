import SystemIO
import Foundation

/// The vhci_hcd controllers under a sysfs root (`DIR/devices/platform/vhci_hcd.N/`).
///
/// ```
///  devices/platform/vhci_hcd.0/  nports  attach  detach  status  status.1 ... status.(N-1)
///  devices/platform/vhci_hcd.1/  (usb hubs only; its ports show in vhci_hcd.0/status.1)
/// ```
/// vhci_sysfs.c puts every controller's `status.N`, `attach`, `detach` and `nports` on
/// vhci_hcd.0; this reader takes status files from every `vhci_hcd.*` so either shape works.
public struct VHCIDriver: Sendable {
    public let sysfsRoot: String
    public let sysfs: any SysfsAccess

    public init(sysfsRoot: String = "/sys", sysfs: any SysfsAccess = FileSysfs()) {
        self.sysfsRoot = sysfsRoot
        self.sysfs = sysfs
    }

    var platform: String { sysfsRoot + "/devices/platform" }

    /// `vhci_hcd.N` directories, by N.
    public var controllers: [String] {
        sysfs.list(platform).filter { $0.hasPrefix("vhci_hcd.") }
            .sorted { (Int($0.dropFirst(9)) ?? 0) < (Int($1.dropFirst(9)) ?? 0) }
            .map { platform + "/" + $0 }
    }

    /// The controller holding `attach`/`detach` (vhci_hcd.0 on a real kernel).
    public func hostController() throws(USBIPClientError) -> String {
        guard let dir = controllers.first(where: { sysfs.read($0 + "/nports") != nil }) else {
            throw .noVHCI("no vhci_hcd controller under \(platform): load the vhci-hcd module (modprobe vhci-hcd)")
        }
        return dir
    }

    /// Makes sure vhci-hcd is there: on the real /sys runs `modprobe vhci-hcd` when needed
    /// (root only); on a test root only checks.
    public func ensureLoaded() throws(USBIPClientError) {
        if (try? hostController()) != nil { return }
        guard sysfsRoot == "/sys" else { _ = try hostController(); return }
        guard geteuid() == 0 else {
            throw .notRoot("vhci-hcd is not loaded and loading it needs root: run `sudo modprobe vhci-hcd` or this command as root")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/sbin/modprobe") ? "/sbin/modprobe" : "/usr/sbin/modprobe")
        process.arguments = ["vhci-hcd"]
        do { try process.run() } catch { throw .noVHCI("cannot run modprobe vhci-hcd: \(error)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw .noVHCI("modprobe vhci-hcd failed (exit \(process.terminationStatus)): the kernel has no vhci-hcd module; see fpga-lab client-recipe")
        }
        _ = try hostController()
    }

    /// `nports`: ports of all controllers, hs and ss together.
    public func portCount() throws(USBIPClientError) -> Int {
        let path = try hostController() + "/nports"
        guard let text = sysfs.read(path), let n = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .sysfs(path: path, errno: EINVAL)
        }
        return n
    }

    /// Every port of every controller, by port number.
    public func ports() throws(USBIPClientError) -> [VHCIPort] {
        var byPort: [Int: VHCIPort] = [:]
        let host = try hostController()
        for dir in Set(controllers + [host]).sorted() {
            for name in sysfs.list(dir) where name == "status" || name.hasPrefix("status.") {
                let path = dir + "/" + name
                guard let text = sysfs.read(path) else { throw .sysfs(path: path, errno: errno) }
                for port in try VHCIPort.parse(text, file: path) { byPort[port.port] = port }
            }
        }
        return byPort.keys.sorted().map { byPort[$0]! }
    }

    /// Hands the connected socket `sockfd` to vhci on a free port of the hub `speed` needs.
    /// A port another attach took in the meantime answers EBUSY: the next free one is tried.
    /// - Returns: the port number.
    public func attach(sockfd: Int32, devid: UInt32, speed: UInt32) throws(USBIPClientError) -> Int {
        let hub = VHCIHub(speed: speed)
        let path = try hostController() + "/attach"
        for port in try ports() where port.hub == hub && port.isFree {
            do throws(USBIPClientError) {
                try sysfs.write(path, "\(port.port) \(sockfd) \(devid) \(speed)")
                return port.port
            } catch .sysfs(_, EBUSY) {
                continue
            }
        }
        throw .noFreePort(hub: hub)
    }

    /// Writes `port` to `detach`; the kernel closes the connection.
    public func detach(port: Int) throws(USBIPClientError) {
        let path = try hostController() + "/detach"
        do throws(USBIPClientError) {
            try sysfs.write(path, "\(port)")
        } catch .sysfs(_, EINVAL) {
            throw .portNotAttached(port)
        }
    }

    /// The /dev nodes (relative to /dev, e.g. `ttyUSB0`, `hidraw1`) of the local USB device
    /// `busID` and its interfaces: every `DEVNAME=` in the uevent files below its directory,
    /// except the device's own `bus/usb/...` node.
    public func deviceNodes(localBusID busID: String) -> [String] {
        let start = sysfsRoot + "/bus/usb/devices/" + busID
        guard let real = try? FileManager.default.destinationOfSymbolicLink(atPath: start) else { return [] }
        let dir = real.hasPrefix("/") ? real : PathText.parent(of: start) + "/" + real
        var nodes: [String] = []
        var queue = [dir]
        while let current = queue.popLast() {
            if let uevent = sysfs.read(current + "/uevent") {
                for line in uevent.split(separator: "\n") where line.hasPrefix("DEVNAME=") {
                    let name = String(line.dropFirst(8))
                    if !name.hasPrefix("bus/usb/") { nodes.append(name) }
                }
            }
            for name in sysfs.list(current) {
                let child = current + "/" + name
                var isDir: ObjCBool = false
                let attributes = try? FileManager.default.attributesOfItem(atPath: child)
                guard attributes?[.type] as? FileAttributeType == .typeDirectory,
                      FileManager.default.fileExists(atPath: child, isDirectory: &isDir), isDir.boolValue else { continue }
                queue.append(child)
            }
        }
        return nodes.sorted()
    }
}
