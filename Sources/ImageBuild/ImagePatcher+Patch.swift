import ImageInspect
import Artifacts
import BootFiles
import DiskFormats
import Ext4FS
import Foundation
import LabConfig
import Overlay

extension ImagePatcher {
    /// What patching the raw image found and did; built whole when the patch is done.
    struct PatchResult {
        /// The byte ranges the bmap maps: what the file systems use, the tables, and whatever
        /// the base held outside the file systems fpga-lab understands.
        let mappedRanges: [ByteRange]
        let arch: ELFArch
        let bootKind: FATKind
        let partitions: [Partition]
        let overlayEntries: Int
        let warnings: [String]
        let firstBoot: FirstBoot
    }

    /// The base's facts the overlay is rendered for, read from its two file systems.
    struct BaseFacts {
        let arch: ELFArch
        let firstBoot: FirstBoot
        let inputs: OverlayRenderer.Inputs
    }

    /// The patch, step by step: the base's facts, the overlay rendered for them, the overlay
    /// written into both file systems (a third sink beside `render`'s directory and tarball),
    /// and the ranges the bmap must map. `sourceData` is what the base held as data
    /// (`ImageSource.Extraction`), mapped wherever no file system says what is in use.
    func patch(_ path: String, sourceData: [ByteRange]) throws -> PatchResult {
        let file = try ImageFile(path: path, writable: true)
        let table = try PartitionTable.read(from: file)
        let bootPartition = try table.boot()
        let rootPartition = try table.root()
        let boot = try FATVolume(image: file, range: bootPartition.range)
        let root = try Ext4Volume(imagePath: path, range: rootPartition.range, writable: true, now: request.epoch)
        // A base whose /etc/udev/rules.d or /etc/systemd/system is a symlink (to /tmp, to
        // /boot/firmware, ...) would get the overlay somewhere the Pi never reads it: refused.
        root.writeSymlinks = .refuse

        let facts = try readFacts(boot: boot, root: root)
        let rendered = try OverlayRenderer(store: request.store).render(request.lab.lab, facts.inputs)
        try writeOverlay(rendered.overlay, boot: boot, root: root)
        var mapped = try boot.allocatedRanges()
        mapped += try root.allocatedRanges().map { ByteRange(offset: $0.offset, length: $0.length) }
        try root.close()
        mapped += Self.rangesOutsidePatchedVolumes(table, file: file, path: path, patched: [bootPartition, rootPartition],
                                                   sourceData: sourceData)
        return PatchResult(mappedRanges: ByteRange.merged(mapped), arch: facts.arch, bootKind: boot.kind,
                           partitions: table.partitions, overlayEntries: rendered.overlay.entries.count,
                           warnings: rendered.warnings, firstBoot: facts.firstBoot)
    }

    /// The architecture, the boot files, the first-boot facts and the usbip tools the base has.
    private func readFacts(boot: FATVolume, root: Ext4Volume) throws -> BaseFacts {
        let arch = try ELFArch.detect(in: root)
        var inputs = OverlayRenderer.Inputs(configBytes: request.lab.bytes)
        inputs.bootConfig = .init(name: "config.txt in \(request.base)", bytes: try boot.readFile("config.txt"))
        inputs.bootCmdline = .init(name: "cmdline.txt in \(request.base)", bytes: try boot.readFile("cmdline.txt"))
        let firstBoot = try FirstBoot.detect(boot: boot, root: root)
        inputs.firstBoot = firstBoot
        if request.lab.lab.server.daemon == .usbipd {
            inputs.imageHasUsbip = try root.lookup("usr/sbin/usbipd") != nil && root.lookup("usr/sbin/usbip") != nil
        } else if let binder = binderExecutable(for: arch) {
            guard let bytes = FileManager.default.contents(atPath: binder) else {
                throw ImagePatchError.overlayPath(binder, "cannot read the usbip-binder executable")
            }
            inputs.binderExecutable = Array(bytes)
        }
        return BaseFacts(arch: arch, firstBoot: firstBoot, inputs: inputs)
    }

    /// The overlay's boot entries into the FAT, its root entries into the ext4, and the new
    /// hostname into /etc/hosts; both volumes flushed.
    private func writeOverlay(_ overlay: Overlay, boot: FATVolume, root: Ext4Volume) throws {
        let stamp = UInt32(clamping: request.epoch)
        for entry in overlay.bootEntries {
            switch entry.content {
            case .directory: try boot.makeDirectory(entry.path, modified: stamp)
            case .file(let bytes): try boot.writeFile(entry.path, bytes, modified: stamp)
            case .symlink: throw ImagePatchError.overlayPath(entry.path, "FAT has no symlinks")
            }
        }
        try boot.flush()
        for entry in overlay.rootEntries {
            try write(entry, into: root)
        }
        try setHostsName(request.lab.lab.hostname, in: root)
        try root.flush()
    }

    /// What the bmap maps besides the two patched volumes: the partition tables, the allocation
    /// of the other FAT or ext4 partitions, and everything the base held elsewhere.
    private static func rangesOutsidePatchedVolumes(_ table: PartitionTable, file: ImageFile, path: String,
                                                    patched: [Partition], sourceData: [ByteRange]) -> [ByteRange] {
        var mapped = table.tableAreas
        var understood = patched.map(\.range)
        for partition in table.partitions where !patched.contains(partition) {
            if let ranges = fileSystemRanges(of: partition, in: file, path: path) {
                mapped += ranges
                understood.append(partition.range)
            }
        }
        return mapped + unstructured(sourceData, besides: understood)
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
        let path = arch.binderPath(in: directory)
        return FileManager.default.isReadableFile(atPath: path) ? path : nil
    }

    /// What a partition fpga-lab does not patch holds, when it is a FAT or an ext4 it can read:
    /// the file system's own allocation (a FAT sector of zeros is mapped, even where the base
    /// has a hole: `dd conv=sparse` makes those). nil for anything else.
    static func fileSystemRanges(of partition: Partition, in file: ImageFile, path: String) -> [ByteRange]? {
        if let fat = try? FATVolume(image: file, range: partition.range), let ranges = try? fat.allocatedRanges() {
            return ranges
        }
        guard partition.range.length >= 2048,
              (try? file.read(at: partition.range.offset + 1080, count: 2)) == [0x53, 0xEF],
              let ext4 = try? Ext4Volume(imagePath: path, range: partition.range, writable: false) else { return nil }
        defer { try? ext4.close() }
        return (try? ext4.allocatedRanges())?.map { ByteRange(offset: $0.offset, length: $0.length) }
    }

    /// The parts of `data` outside the `known` file systems: boot loader gaps, partitions holding
    /// neither FAT nor ext4, space after the last one. fpga-lab does not know what is in use
    /// there, so all of it the base holds is mapped, zero or not (a card's old bytes must not
    /// show through a zeroed sector); only the base's holes are left out, as `bmaptool create`
    /// does.
    static func unstructured(_ data: [ByteRange], besides known: [ByteRange]) -> [ByteRange] {
        var out: [ByteRange] = []
        let known = ByteRange.merged(known)
        for range in ByteRange.merged(data) {
            var start = range.offset
            for partition in known where partition.end > start && partition.offset < range.end {
                if partition.offset > start { out.append(ByteRange(offset: start, length: partition.offset - start)) }
                start = max(start, partition.end)
            }
            if start < range.end { out.append(ByteRange(offset: start, length: range.end - start)) }
        }
        return out
    }
}
