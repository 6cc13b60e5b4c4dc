import ArgumentParser
import DiskImage
import Foundation
import LabConfig

/// `fpga-lab inspect IMAGE`: what an image holds, read-only.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's partitions, filesystems, config.txt as each board sees it, and its fpga-lab manifest.",
        discussion: "IMAGE may be raw or compressed (.xz, .gz, .zst, .bz2, .zip); a compressed one is unpacked to a temporary file first. The image is never modified."
    )

    @Argument(help: ArgumentHelp("The image to inspect.", valueName: "image"))
    var image: String

    func run() throws {
        do {
            var path = image
            var temporary: String?
            defer { if let temporary { unlink(temporary) } }
            let header = FileHandle(forReadingAtPath: image)?.readData(ofLength: 8) ?? Data()
            if ImageSource.isCompressed(header: Array(header)) {
                let scratch = NSTemporaryDirectory() + "fpga-lab-inspect-\(getpid()).img"
                temporary = scratch
                try ImageSource.extract(base: image, to: scratch)
                path = scratch
            }
            Console.output(try report(ImageInspection(path: path)))
        } catch {
            Console.error("fpga-lab: error: \(image): \(error)")
            throw ExitCode.failure
        }
    }

    private func report(_ inspection: ImageInspection) throws -> String {
        var lines = ["\(image): \(TerminalProgress.mib(inspection.size)), \(inspection.table.scheme) partition table, disk \(inspection.table.diskIdentifier)"]
        if let arch = inspection.arch { lines.append("architecture: \(arch.debianName)") }
        lines.append("")
        lines.append("partitions:")
        for partition in inspection.table.partitions {
            let fs = inspection.fileSystems.first { $0.partition.index == partition.index }?.description ?? "not read"
            lines.append("  \(partition.index): offset \(partition.range.offset), \(TerminalProgress.mib(partition.range.length)), PARTUUID \(partition.partUUID): \(fs)")
        }
        if let cmdline = inspection.cmdline {
            lines += ["", "cmdline.txt: \(cmdline.trimmingCharacters(in: .whitespacesAndNewlines))"]
        }
        let groups = inspection.configTxtByBoard()
        if !groups.isEmpty {
            lines += ["", "config.txt as each board sees it:"]
            for group in groups {
                lines.append("  \(group.boards.map(\.rawValue).joined(separator: " ")):")
                lines += group.settings.map { "    \($0)" }
            }
        }
        lines += ["", inspection.manifest.map { "manifest (/etc/fpga-lab/manifest):\n" + $0 } ?? "manifest: none (not made by fpga-lab)"]
        return lines.joined(separator: "\n")
    }
}
