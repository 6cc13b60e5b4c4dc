import Artifacts
import ArgumentParser
import Flash
import Foundation
import Progress

/// `fpga-lab flash SOURCE TARGET`: stream an image (path, URL or CI zip) onto a card.
struct FlashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flash",
        abstract: "Write an image (path, http(s) URL or CI artifact zip) to an SD card, then verify it.",
        discussion: """
        SOURCE may be raw (.img), compressed (.xz, .gz, .zst, .bz2) or a zip holding the image \
        with its .bmap and SHA256SUMS (a GitHub Actions artifact); it is decompressed as it \
        streams. The .bmap and SHA256SUMS beside SOURCE are used when present: only mapped \
        ranges are written, each checked against its sha256, then read back from the target. \
        Without a bmap every block of the image is written, zero or not (as `bmaptool copy --nobmap` does): a used card's old bytes must not show through. \
        A download cut short is resumed from where it stopped (Range requests).

        gh:OWNER/REPO is resolved through the GitHub REST API (--api-url) with GH_TOKEN or \
        GITHUB_TOKEN: the artifact --artifact (default pi-image) of the newest successful run of \
        --workflow (default build-image.yml) on the default branch; its zip is checked against \
        the digest the API gives, when it gives one.

        Refused: a mounted device, the disk the system runs from, a device smaller than the \
        image, and (unless --force) a non-removable disk or a partition. TARGET may be a \
        regular file.
        """
    )

    @Argument(help: ArgumentHelp("The image: a path, an http(s) URL, or a GitHub Actions artifact as gh:OWNER/REPO (the newest successful build-image run on the default branch), gh:OWNER/REPO#RUN_ID or gh:OWNER/REPO@ARTIFACT_ID.", valueName: "source"))
    var source: String

    @Argument(help: ArgumentHelp("The block device (e.g. /dev/sdb) or a regular file.", valueName: "target"))
    var target: String

    @Option(name: .long, help: ArgumentHelp("The block map to use instead of the one found beside SOURCE.", valueName: "file"))
    var bmap: String?

    @OptionGroup var download: DownloadOptions

    @Flag(name: .long, help: "Do not read the written ranges back.")
    var noVerify = false

    @Flag(name: .long, help: "Write a non-removable disk or a partition.")
    var force = false

    @Flag(name: .long, help: "Resolve SOURCE, run the safety checks and print what would be written; write nothing.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp("Stand-in for /sys (tests).", valueName: "dir", visibility: .hidden))
    var sysfsRoot = "/sys"

    @Option(name: .long, help: ArgumentHelp("Stand-in for /proc/self/mountinfo (tests).", valueName: "file", visibility: .hidden))
    var mountinfo = "/proc/self/mountinfo"

    @Option(name: .long, help: ArgumentHelp("Stand-in for /proc/swaps (tests).", valueName: "file", visibility: .hidden))
    var swaps = "/proc/swaps"

    @Option(name: .long, help: ArgumentHelp("Device number of / as MAJOR:MINOR (tests).", valueName: "major:minor", visibility: .hidden))
    var rootDevice: String?

    func validate() throws {
        if let rootDevice, DeviceNumber(rootDevice) == nil {
            throw ValidationError("--root-device \(rootDevice): expected MAJOR:MINOR, e.g. 8:2.")
        }
    }

    func run() throws {
        let resolved = try download.resolve(source)
        if let note = resolved.note { Console.error(note) }
        var options = Flasher.Options(source: resolved.argument, target: target, bmap: bmap)
        options.verify = !noVerify
        options.force = force
        options.timeout = download.timeout
        options.credentials = resolved.credentials
        options.zipSHA256 = resolved.sha256
        options.system = SystemView(sysfsRoot: sysfsRoot, mountInfo: mountinfo, swaps: swaps,
                                    rootDevice: rootDevice.flatMap { DeviceNumber($0) } ?? SystemView.deviceOfRoot())
        let flasher = Flasher(options: options, progress: ProgressBar())
        let plan = try flasher.plan()
        for line in plan.description { Console.error(line) }
        if dryRun {
            Console.output(dryRunSummary(plan))
            return
        }
        let report = try flasher.run(plan)
        Console.output(summary(report))
    }

    private func dryRunSummary(_ plan: Flasher.Plan) -> String {
        if let bmap = plan.source.bmap {
            return "dry run: would write \(bmap.mappedBlocksCount * bmap.blockSize) bytes in \(bmap.ranges.count) ranges to \(plan.target.path)"
        }
        return "dry run: no bmap: would write every block of \(plan.source.imageName), zero or not, to \(plan.target.path)"
    }

    private func summary(_ report: Flasher.Report) -> String {
        let mib = { (bytes: UInt64) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        let rate = report.writeSeconds > 0 ? Double(report.bytesWritten) / report.writeSeconds / 1_048_576 : 0
        var line = "wrote \(report.bytesWritten) bytes (\(mib(report.bytesWritten))) in \(report.ranges) ranges of a \(report.imageSize)-byte image"
        line += report.usedBmap ? " (the blocks its bmap maps)" : " (every block: no bmap)"
        line += String(format: " in %.2f s (%.1f MiB/s)", report.writeSeconds, rate)
        line += report.checkedAgainstSums ? (report.checkedThroughBmap ? "; SHA256SUMS ok (through the bmap it lists)" : "; SHA256SUMS ok") : ""
        if let verified = report.verifiedBytes {
            line += String(format: "; verified %@ read back in %.2f s", mib(verified), report.verifySeconds)
        } else {
            line += "; not verified (--no-verify)"
        }
        return line
    }
}
