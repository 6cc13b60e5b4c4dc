import CBuildVersion
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
/// The text is written by Overlay (`Manifest.text(for:)`, from the overlay's entries); its place
/// and the digest it uses are here, where inspect reads them.
public enum Manifest {
    public static let path = "etc/fpga-lab/manifest"

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }
}

/// The version of fpga-lab, recorded in manifests and printed by `--version`: what make gave the
/// build (`git describe` made a Debian version by scripts/version.sh, e.g. `0.1.0+12.g1a2b3c4d5e6f`),
/// `unversioned` for a bare `swift build`.
public enum FPGALabVersion {
    public static let current = String(cString: fpga_lab_build_version())
}
