import Foundation
import LabConfig
import Overlay

extension ImagePatcher {
    /// What patching the raw image found and did.
    struct PatchResult {
        var imageSize: UInt64 = 0
        var mappedBytes: UInt64 = 0
        var mappedRanges: [ByteRange]
        var arch: ELFArch
        var bootKind: FATKind
        var partitions: [Partition]
        var overlayEntries: Int
        var warnings: [String]
    }

    /// Reads the boot files and the architecture from the image, renders the overlay for them
    /// and writes it into both filesystems.
    func patch(_ path: String) throws -> PatchResult {
        let file = try ImageFile(path: path, writable: true)
        let table = try PartitionTable.read(from: file)
        let bootPartition = try table.boot()
        let rootPartition = try table.root()
        let boot = try FATVolume(image: file, range: bootPartition.range)
        let root = try Ext4Volume(imagePath: path, offset: rootPartition.range.offset, writable: true, now: request.epoch)
        // A base whose /etc/udev/rules.d or /etc/systemd/system is a symlink (to /tmp, to
        // /boot/firmware, ...) would get the overlay somewhere the Pi never reads it: refused.
        root.writeSymlinks = .refuse

        let arch = try ELFArch.detect(in: root)
        let lab = request.lab.lab
        var inputs = OverlayRenderer.Inputs(configBytes: request.lab.bytes)
        inputs.bootConfig = .init(name: "config.txt in \(request.base)", bytes: try boot.readFile("config.txt"))
        inputs.bootCmdline = .init(name: "cmdline.txt in \(request.base)", bytes: try boot.readFile("cmdline.txt"))
        if lab.server.daemon == .usbipd {
            inputs.imageHasUsbip = try root.lookup("usr/sbin/usbipd") != nil && root.lookup("usr/sbin/usbip") != nil
        } else if let binder = binderExecutable(for: arch) {
            guard let bytes = FileManager.default.contents(atPath: binder) else {
                throw ImagePatchError.overlayPath(binder, "cannot read the usbip-binder executable")
            }
            inputs.binderExecutable = Array(bytes)
        }
        let rendered = try OverlayRenderer(store: request.store).render(lab, inputs)

        let stamp = UInt32(clamping: request.epoch)
        for entry in rendered.overlay.bootEntries {
            switch entry.content {
            case .directory: try boot.makeDirectory(entry.path, modified: stamp)
            case .file(let bytes): try boot.writeFile(entry.path, bytes, modified: stamp)
            case .symlink: throw ImagePatchError.overlayPath(entry.path, "FAT has no symlinks")
            }
        }
        try boot.flush()
        for entry in rendered.overlay.rootEntries {
            try write(entry, into: root)
        }
        try setHostsName(lab.hostname, in: root)
        try root.flush()
        var mapped = try boot.allocatedRanges()
        mapped += try root.allocatedRanges().map { ByteRange(offset: $0.offset, length: $0.length) }
        try root.close()
        mapped += try unstructuredRanges(of: file, besides: [bootPartition.range, rootPartition.range])
        return PatchResult(mappedRanges: ByteRange.merged(mapped), arch: arch, bootKind: boot.kind,
                           partitions: table.partitions, overlayEntries: rendered.overlay.entries.count,
                           warnings: rendered.warnings)
    }

    /// Directories that exist already keep their owner, mode and times (`/etc` stays as it was);
    /// a symlink where the overlay has a directory is refused by `makeDirectory`.
    private func write(_ entry: OverlayEntry, into root: Ext4Volume) throws {
        let time = request.epoch
        switch entry.content {
        case .directory:
            if try root.lookup(entry.path)?.kind != .directory {
                try root.makeDirectory(entry.path, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: time)
            }
        case .file(let bytes):
            try root.writeFile(entry.path, bytes: bytes, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: time)
        case .symlink(let target):
            try root.makeSymlink(entry.path, target: target, uid: entry.uid, gid: entry.gid, mtime: time)
        }
    }

    /// Points the `127.0.1.1` line of /etc/hosts at the new hostname, as Raspberry Pi OS's own
    /// hostname change does, so `sudo` does not complain it cannot resolve the host.
    private func setHostsName(_ hostname: String, in root: Ext4Volume) throws {
        guard let entry = try root.lookup("etc/hosts"), let bytes = try root.readFile("etc/hosts") else { return }
        var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        let line = "127.0.1.1\t\(hostname)"
        if let index = lines.firstIndex(where: { $0.hasPrefix("127.0.1.1") }) { lines[index] = line } else { lines.append(line) }
        try root.writeFile("etc/hosts", bytes: Array((lines.joined(separator: "\n") + "\n").utf8), mode: entry.mode,
                           uid: entry.uid, gid: entry.gid, mtime: request.epoch)
    }

    /// The usbip-binder build for `arch`, if one was given or built.
    func binderExecutable(for arch: ELFArch) -> String? {
        if let explicit = request.binderExecutable { return explicit }
        guard let directory = request.binderDirectory else { return nil }
        let name = switch arch {
        case .aarch64: "aarch64"
        case .armhf: "armv6"
        case .x86_64: "x86_64"
        }
        let path = "\(directory)/\(name)/usbip-binder"
        return FileManager.default.isReadableFile(atPath: path) ? path : nil
    }

    /// Non-zero 4 KiB blocks outside the filesystems fpga-lab understands: the partition table,
    /// boot loader gaps, other partitions, a GPT backup. Scanned, since they have no structure.
    func unstructuredRanges(of file: ImageFile, besides known: [ByteRange]) throws -> [ByteRange] {
        var out: [ByteRange] = []
        var position: UInt64 = 0
        let block: UInt64 = 4096
        for range in ByteRange.merged(known) + [ByteRange(offset: file.size, length: 0)] {
            var offset = position - position % block
            while offset < min(range.offset, file.size) {
                let count = Int(min(1 << 20, file.size - offset))
                let bytes = try file.read(at: offset, count: count)
                for start in stride(from: 0, to: count, by: Int(block)) {
                    let end = min(start + Int(block), count)
                    if bytes[start..<end].contains(where: { $0 != 0 }) {
                        out.append(ByteRange(offset: offset + UInt64(start), length: UInt64(end - start)))
                    }
                }
                offset += UInt64(count)
            }
            position = max(position, range.end)
        }
        return ByteRange.merged(out)
    }
}
