import Foundation
import USBIPClient

/// A fake vhci sysfs tree shaped like vhci_sysfs.c makes it: every controller's status file,
/// `attach`, `detach` and `nports` on vhci_hcd.0; the other controllers' directories exist.
struct FakeVHCI {
    let root: String
    var host: String { root + "/devices/platform/vhci_hcd.0" }

    /// A tree with `controllers` controllers of `hcPorts` ports per hub, all free.
    init(controllers: Int = 2, hcPorts: Int = 2) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("vhci-\(UUID().uuidString)").path
        for n in 0..<controllers {
            try FileManager.default.createDirectory(atPath: root + "/devices/platform/vhci_hcd.\(n)", withIntermediateDirectories: true)
        }
        try "\(controllers * hcPorts * 2)\n".write(toFile: host + "/nports", atomically: true, encoding: .utf8)
        for name in ["attach", "detach"] { _ = FileManager.default.createFile(atPath: host + "/" + name, contents: nil) }
        for n in 0..<controllers {
            var text = "hub port sta spd dev      sockfd local_busid\n"
            for hub in ["hs", "ss"] {
                for i in 0..<hcPorts {
                    let port = n * hcPorts * 2 + (hub == "ss" ? hcPorts : 0) + i
                    text += "\(hub)  \(String(format: "%04ld", port)) 004 000 00000000 000000 0-0\n"
                }
            }
            try write(n == 0 ? "status" : "status.\(n)", text)
        }
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: host + "/" + name, atomically: true, encoding: .utf8)
    }

    func read(_ name: String) -> String {
        (try? String(contentsOfFile: host + "/" + name, encoding: .utf8)) ?? ""
    }

    /// Marks `port` used the way the kernel prints it after an attach.
    func markUsed(_ port: Int, speed: Int, devid: UInt32, sockfd: Int, busID: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: host) where name.hasPrefix("status") {
            let text = read(name)
            let prefix = String(format: "  %04u ", port)
            let lines = text.split(separator: "\n").map { line -> String in
                guard line.dropFirst(2).hasPrefix(prefix) else { return String(line) }
                return String(line.prefix(2)) + String(format: "  %04ld 006 %03ld %08x %06ld ", port, speed, devid, sockfd) + busID
            }
            try write(name, lines.joined(separator: "\n") + "\n")
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// The real file access, except that writes to `attach` naming a port in `busyPorts` fail
/// with EBUSY, as when another attach took the port between our status read and our write.
struct BusySysfs: SysfsAccess {
    let busyPorts: Set<Int>
    let real = FileSysfs()

    func read(_ path: String) -> String? { real.read(path) }
    func list(_ directory: String) -> [String] { real.list(directory) }

    func write(_ path: String, _ text: String) throws(USBIPClientError) {
        if path.hasSuffix("/attach"), let port = text.split(separator: " ").first.flatMap({ Int($0) }), busyPorts.contains(port) {
            throw .sysfs(path: path, errno: EBUSY)
        }
        try real.write(path, text)
    }
}
