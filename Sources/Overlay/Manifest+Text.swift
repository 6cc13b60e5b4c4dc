import BootFiles

extension Manifest {
    /// `firstBoot` is the line saying what the image's first boot will do (none for render,
    /// which does not know the image).
    public static func text(for overlay: Overlay, lab: String, configBytes: [UInt8], toolVersion: String, firstBoot: String? = nil) -> String {
        var lines = [
            "fpga-lab-manifest 1",
            "tool fpga-lab \(toolVersion)",
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
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
