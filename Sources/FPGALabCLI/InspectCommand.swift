import ImageInspect
import ArgumentParser
import Artifacts
import DiskFormats
import ImageBuild
import Foundation
import LabConfig
import SystemIO

/// `fpga-lab inspect IMAGE`: what an image holds, read-only.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's partitions, filesystems, config.txt as each board sees it, and its fpga-lab manifest.",
        discussion: "IMAGE may be raw, compressed (.xz, .gz, .zst, .bz2) or a zip artifact holding one image (told by its first bytes), as a path or an http(s) URL; a compressed or downloaded one is unpacked to a temporary file first (a URL's sha256 is printed). The image is never modified."
    )

    @Argument(help: ArgumentHelp("The image to inspect: a path, an http(s) URL or gh:OWNER/REPO[#RUN_ID|@ARTIFACT_ID] (see flash).", valueName: "image"))
    var image: String

    @OptionGroup var download: DownloadOptions

    @Flag(name: .long, help: "Print one JSON object (partitions, architecture, cmdline, first boot, manifest) instead of text.")
    var json = false

    func run() throws {
        do {
            let resolved = try download.resolve(image)
            if let note = resolved.note { Console.error(note) }
            let image = resolved.argument
            var path = image
            var temporary: String?
            defer { if let temporary { unlink(temporary) } }
            var downloadDigest: String?
            if case .url = Location(image) {
                let scratch = NSTemporaryDirectory() + "fpga-lab-inspect-\(getpid()).img"
                temporary = scratch
                downloadDigest = try ImageSource.extract(location: Location(image), sha256: resolved.sha256, to: scratch, timeout: download.timeout,
                                                        credentials: resolved.credentials).sha256
                let inspection = try ImageInspection(path: scratch)
                if json {
                    Console.output(try Self.json(inspection, image: image, downloadSHA256: downloadDigest))
                    return
                }
                var lines = [try report(inspection)]
                if let downloadDigest { lines.insert("\(image): downloaded, sha256 \(downloadDigest)", at: 0) }
                Console.output(lines.joined(separator: "\n"))
                return
            }
            var info = stat()
            guard stat(image, &info) == 0 else { throw InspectError.unreadable(image, errno) }
            if info.st_mode & S_IFMT == S_IFDIR { throw InspectError.directory(image) }
            // A pipe or a device is unpacked too: its first bytes, once read, are gone.
            let regular = info.st_mode & S_IFMT == S_IFREG
            if try !regular || ImageSource.isCompressed(header: Self.header(of: image)) {
                let scratch = NSTemporaryDirectory() + "fpga-lab-inspect-\(getpid()).img"
                temporary = scratch
                try ImageSource.extract(base: image, to: scratch)
                path = scratch
            }
            let inspection = try ImageInspection(path: path)
            Console.output(json ? try Self.json(inspection, image: image, downloadSHA256: nil) : try report(inspection))
        } catch {
            // Every failure names IMAGE, once; the root command prints it.
            throw CLIError(ErrorText.about(image, error))
        }
    }

    /// The first 8 bytes of a regular file (fewer when it is shorter).
    private static func header(of path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InspectError.unreadable(path, errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 8, 0) }
        guard count >= 0 else { throw InspectError.unreadable(path, errno) }
        return Array(bytes.prefix(count))
    }

    private func report(_ inspection: ImageInspection) throws -> String {
        var lines = ["\(image): \(wholeMiB(inspection.size)), \(inspection.table.scheme) partition table, disk \(inspection.table.diskIdentifier)"]
        if let arch = inspection.arch { lines.append("architecture: \(arch.debianName)") }
        lines.append("")
        lines.append("partitions:")
        for partition in inspection.table.partitions {
            let fs = inspection.fileSystems.first { $0.partition.index == partition.index }?.description ?? "not read"
            lines.append("  \(partition.index): offset \(partition.range.offset), \(wholeMiB(partition.range.length)), PARTUUID \(partition.partUUID): \(fs)")
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
        if let firstBoot = inspection.firstBoot {
            lines += ["", "first boot: \(firstBoot.summary)"]
        }
        lines += ["", inspection.manifest.map { "manifest (/etc/fpga-lab/manifest):\n" + $0 } ?? "manifest: none (not made by fpga-lab)"]
        return lines.joined(separator: "\n")
    }
}

extension InspectCommand {
    /// `inspect --json`.
    struct Document: Encodable {
        struct Part: Encodable { var index: Int; var offset: UInt64; var length: UInt64; var partuuid: String; var filesystem: String? }
        var image: String
        var downloadSha256: String?
        var size: UInt64
        var partitionTable: String
        var diskIdentifier: String
        var arch: String?
        var partitions: [Part]
        var cmdline: String?
        var firstBoot: FirstBootSummary?
        var manifest: String?
    }

    static func json(_ inspection: ImageInspection, image: String, downloadSHA256: String?) throws -> String {
        let document = Document(
            image: image, downloadSha256: downloadSHA256, size: inspection.size, partitionTable: "\(inspection.table.scheme)",
            diskIdentifier: inspection.table.diskIdentifier, arch: inspection.arch?.debianName,
            partitions: inspection.table.partitions.map { partition in
                .init(index: partition.index, offset: partition.range.offset, length: partition.range.length, partuuid: partition.partUUID,
                      filesystem: inspection.fileSystems.first { $0.partition.index == partition.index }?.description)
            },
            cmdline: inspection.cmdline?.trimmingCharacters(in: .whitespacesAndNewlines),
            firstBoot: inspection.firstBoot.map(FirstBootSummary.init), manifest: inspection.manifest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}

/// Why `inspect` could not start reading IMAGE.
enum InspectError: FileNamingError {
    case unreadable(String, Int32)
    case directory(String)

    var file: String {
        switch self {
        case .unreadable(let path, _), .directory(let path): path
        }
    }

    var description: String {
        switch self {
        case let .unreadable(path, code): "\(path): cannot read: \(String(cString: strerror(code)))"
        case let .directory(path): "\(path): is a directory; give the image file (.img, .img.xz, .zip, ...)"
        }
    }
}
