import Digests
import Foundation

/// `/etc/fpga-lab/manifest`: what `fpga-lab inspect` reads to tell which tool, config and files
/// made an image.
///
///     fpga-lab-manifest 1
///     tool fpga-lab 0.1.0
///     lab fpga-lab-1
///     config sha256:<hex of lab.yaml bytes>
///     first-boot cloud-init instance-id fpga-lab-<hex> ssh-user pi network cloud-init
///     dir 0755 0:0 etc/fpga-lab
///     file 0644 0:0 sha256:<hex> etc/udev/rules.d/90-fpga-lab.rules
///     link 0777 0:0 /etc/systemd/system/usbip-binder.service etc/systemd/.../usbip-binder.service
public enum Manifest {
    public static let path = "etc/fpga-lab/manifest"

    /// `firstBoot` is the line saying what the image's first boot will do (none for render,
    /// which does not know the image).
    public static func text(for overlay: Overlay, lab: String, configBytes: [UInt8], firstBoot: String? = nil) -> String {
        var lines = [
            "fpga-lab-manifest 1",
            "tool fpga-lab \(FPGALabVersion.current)",
            "lab \(lab)",
            "config sha256:\(sha256Hex(configBytes))",
        ]
        if let firstBoot { lines.append("first-boot \(firstBoot)") }
        for entry in overlay.entries where entry.path != path {
            let owner = "\(String(entry.mode, radix: 8).leftPadded(to: 4)) \(entry.uid):\(entry.gid)"
            switch entry.content {
            case .directory: lines.append("dir \(owner) \(entry.path)")
            case .file(let bytes): lines.append("file \(owner) sha256:\(sha256Hex(bytes)) \(entry.path)")
            case .symlink(let target): lines.append("link \(owner) \(target) \(entry.path)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }
}

/// The version of fpga-lab, recorded in manifests and printed by `--version`.
public enum FPGALabVersion {
    public static let current = "0.1.0"
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
