import Foundation
import Testing
import TestSupport

/// build-image under faults: SIGKILL at points spread over every phase, a full output disk
/// (a small tmpfs), and bases that end or break mid-stream. Whatever happens, BASE is never
/// changed, OUT is either absent, the earlier complete set, or a new complete set, and the
/// next run leaves no temporary behind.
@Suite(.serialized) struct BuildImageFaultTests {
    static let outputs = ["SHA256SUMS", "pi.img", "pi.img.bmap"]

    /// A base small enough for many runs (16 MiB bootfs, 32 MiB rootfs).
    static func smallBase(in dir: URL) throws -> String {
        try BuildImageIntegrationTests.makeBase(in: dir, extra: ["--boot-mib", "16"])
    }

    /// sha256 of each of OUT's files that exists.
    static func sums(_ dir: URL, _ names: [String]) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in names where FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path) {
            out[name] = try Project.sha256(dir.appendingPathComponent(name).path)
        }
        return out
    }

    /// Whatever the kill point, SHA256SUMS only ever vouches for a complete set: ImagePatcher
    /// renames OUT.bmap, OUT and SHA256SUMS in that order, back to back, so a kill between two
    /// renames (the rare "between renames" count) leaves the old SHA256SUMS beside a new file,
    /// which `sha256sum -c` and `fpga-lab flash` refuse; the next run replaces the set.
    ///
    /// The kill sweep of one base/output pair: `points` kills per phase, at conditions on what
    /// the run drew, not at times: the jth of n kills in a phase comes once the phase shows
    /// j/n of its progress (or, on a line without a percentage, at its (j+1)th draw); in
    /// `startup` the first comes at once and a second once the run's temporary exists in OUT.
    /// A run that has passed the phase by then is killed in the next, and counted there.
    /// Returns kills per phase.
    static func sweep(base: String, output: String, points: [String: Int], withOlderOutput: Bool, in dir: URL) throws -> [String: Int] {
        let names = ["SHA256SUMS", output, output + ".bmap"]
        let baseSum = try Project.sha256(base)
        let arguments = ["build-image", "--config", Project.exampleLab, "--base", base]
        let order = ["startup", "extract", "patch", "bmap", "compress", "checksum"]
        let plan = order.flatMap { phase in (0..<points[phase, default: 0]).map { (phase: phase, index: $0, of: points[phase]!) } }

        // "fresh" has no OUT yet; "existing" holds a complete OUT of another lab config.
        let fresh = dir.appendingPathComponent("fresh"), existing = dir.appendingPathComponent("existing")
        var expected: [URL: [String: String]] = [fresh: [:]]
        if withOlderOutput {
            let lab = try String(contentsOfFile: Project.exampleLab, encoding: .utf8)
                .replacingOccurrences(of: "hostname: fpga-pi-01", with: "hostname: older-pi")
            try Data(lab.utf8).write(to: dir.appendingPathComponent("older.yaml"))
            let older = try Project.fpgaLab(["build-image", "--config", "older.yaml", "--base", base, "--output", "existing/\(output)"], in: dir)
            #expect(older.status == 0, "\(older.stderr)")
            expected[existing] = try sums(existing, names)
        }
        let directories = expected.keys.sorted { $0.path < $1.path }

        var perPhase: [String: Int] = [:]
        var stale: Set<String> = []
        for (index, point) in plan.enumerated() {
            let out = directories[index % directories.count]
            let run = try PhaseWatchedRun(arguments + ["--output", "\(out.lastPathComponent)/\(output)"], in: dir)
            if point.phase == "startup" {
                if point.index > 0 {
                    let temporary = ".\(output).partial-\(run.pid)"
                    try Wait.until("build-image made its temporary or ended") {
                        Project.listing(out).contains { $0.hasPrefix(temporary) } || !run.isRunning
                    }
                }
                run.kill()
            } else {
                run.kill { progress in
                    guard let at = progress.phases.firstIndex(of: point.phase) else {
                        return progress.phases.contains { (order.firstIndex(of: $0) ?? -1) > order.firstIndex(of: point.phase)! }
                    }
                    if at < progress.phases.count - 1 { return true }
                    if let percent = progress.percent { return percent * point.of >= 100 * point.index }
                    return progress.draws > point.index
                }
            }
            var phase = try run.wait() ? run.lastPhase : "finished"
            let now = try sums(out, names)
            let before = expected[out] ?? [:]
            if now != before {
                let check = try ProcessRunner.run("sha256sum", ["-c", "--quiet", "SHA256SUMS"], in: out)
                if now["SHA256SUMS"] != before["SHA256SUMS"] {
                    // SHA256SUMS is renamed last: when it changed, the new set is complete and agrees.
                    #expect(now.count == 3, "kill \(index) in \(phase): a partial set \(now.keys.sorted())")
                    #expect(check.status == 0, "kill \(index) in \(phase): \(check.stdout)\(check.stderr)")
                } else {
                    // Killed between the renames (the process was descheduled there): the old
                    // SHA256SUMS, if any, must not vouch for the new image or bmap.
                    phase = "between renames"
                    #expect(before["SHA256SUMS"] == nil || check.status != 0, "kill \(index): a mixed set passes sha256sum -c")
                }
                expected[out] = now
            }
            perPhase[phase, default: 0] += 1
            #expect(try Project.sha256(base) == baseSum, "kill \(index) in \(phase): the base changed")
            stale.formUnion(Project.listing(out).filter { $0.contains(".partial-") })
        }

        // Killed runs left temporaries; the next run in each directory removes all of them.
        #expect(!stale.isEmpty, "the kills left temporaries to clean")
        for out in directories {
            let next = try Project.fpgaLab(arguments + ["--output", "\(out.lastPathComponent)/\(output)"], in: dir)
            #expect(next.status == 0, "\(next.stderr)")
            #expect(Project.listing(out) == names.sorted(), "\(out.lastPathComponent): \(Project.listing(out))")
            try ProcessRunner.check("sha256sum", ["-c", "--quiet", "SHA256SUMS"], in: out)
        }
        return perPhase
    }

    @Test func killNineAnywhereLeavesNoPartialOutput() throws {
        let dir = try Project.scratch("kill-sweep")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.smallBase(in: dir)
        try ProcessRunner.check("xz", ["-k", "-T1", base])
        let raw = try Self.sweep(base: base, output: "pi.img", points: ["startup": 2, "extract": 4, "patch": 6, "bmap": 3, "checksum": 5],
                                 withOlderOutput: true, in: dir.appendingPathComponent("raw").creatingDirectory())
        let xz = try Self.sweep(base: base + ".xz", output: "pi.img.xz", points: ["startup": 1, "extract": 2, "patch": 2, "bmap": 1, "compress": 3, "checksum": 1],
                                withOlderOutput: false, in: dir.appendingPathComponent("xz").creatingDirectory())
        print("kill points per phase: raw -> raw \(raw.sorted { $0.key < $1.key }), .img.xz -> .img.xz \(xz.sorted { $0.key < $1.key })")
        let landed = raw.merging(xz, uniquingKeysWith: +).filter { $0.key != "finished" }.values.reduce(0, +)
        #expect(landed >= 20, "\(raw) \(xz)")
        #expect(Set(raw.keys).isSuperset(of: ["startup", "extract", "patch", "checksum"]), "\(raw)")
        #expect(Set(xz.keys).isSuperset(of: ["extract", "patch", "compress"]), "\(xz)")
    }

    /// Temporaries of dead runs, and of PIDs that now run another program, are removed by the
    /// next run (build-image and render alike, symlinks in them not followed); the temporary
    /// of a live fpga-lab run is kept.
    @Test func staleTemporariesAreRemovedLiveOnesKept() throws {
        let dir = try Project.scratch("stale")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.smallBase(in: dir)
        try ProcessRunner.check("xz", ["-k", "-T1", base])
        let dead = try ProcessRunner.Background("true", [])
        #expect(try dead.wait() == 0)
        let live = try PhaseWatchedRun(["build-image", "--config", Project.exampleLab, "--base", base + ".xz", "--output", "other/pi.img.xz"], in: dir)
        defer { live.kill(); _ = try? live.wait() }
        // Another program, alive while build-image looks at its PID (killed at the end).
        let foreign = try ProcessRunner.Background("sleep", ["infinity"])
        defer { foreign.stop() }

        let out = try dir.appendingPathComponent("out").creatingDirectory()
        let victim = try dir.appendingPathComponent("victim").creatingDirectory()
        try Data("precious\n".utf8).write(to: victim.appendingPathComponent("file"))
        let (d, f, l) = (dead.pid, foreign.pid, live.pid)
        for name in [".pi.img.partial-\(d)", ".pi.img.partial-\(d).raw", ".pi.img.bmap.partial-\(f)", ".SHA256SUMS.partial-\(d)", ".pi.img.partial-\(l)"] {
            try Data("stale".utf8).write(to: out.appendingPathComponent(name))
        }
        let staleTree = try out.appendingPathComponent(".overlay.partial-\(d)/etc").creatingDirectory()
        try FileManager.default.createSymbolicLink(atPath: staleTree.appendingPathComponent("udev").path, withDestinationPath: victim.path)
        try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent(".overlay.partial-\(f).old").path, withDestinationPath: victim.path)

        let build = try Project.buildImage(base: base, output: "out/pi.img", in: dir)
        #expect(build.status == 0, "\(build.stderr)")
        let render = try Project.fpgaLab(["render", "--config", Project.exampleLab, "--output-dir", "out/overlay"], in: dir)
        #expect(render.status == 0, "\(render.stderr)")
        #expect(Project.listing(out) == [".pi.img.partial-\(l)", "SHA256SUMS", "overlay", "pi.img", "pi.img.bmap"], "\(Project.listing(out))")
        #expect(Project.listing(victim) == ["file"])
    }

    /// A tmpfs of `size` mounted at DIR/out for the duration of `body`, unmounted on every path.
    static func withSmallDisk<T>(_ dir: URL, size: Int, _ body: (URL) throws -> T) throws -> T {
        let out = try dir.appendingPathComponent("out", isDirectory: true).creatingDirectory()
        try ProcessRunner.check("mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", out.path])
        defer {
            let result = try? ProcessRunner.run("umount", [out.path])
            if result?.status != 0 { Issue.record("umount \(out.path) failed: \(result?.stderr ?? "")") }
        }
        return try body(out)
    }

    /// Allocated bytes of a file (what it takes on a tmpfs).
    static func allocated(_ path: String) throws -> Int {
        Int(try ProcessRunner.check("stat", ["-c", "%b", path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))! * 512
    }

    @Test func fullOutputDiskIsAClearErrorAndLeavesNothing() throws {
        let dir = try Project.scratch("full-disk")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.smallBase(in: dir)
        try ProcessRunner.check("xz", ["-k", "-T1", base])
        let good = try Project.buildImage(base: base, output: "good/pi.img", in: dir)
        #expect(good.status == 0, "\(good.stderr)")
        let image = try Self.allocated(dir.appendingPathComponent("good/pi.img").path)
        // (base, output, tmpfs size): full while extracting, while patching (the base's data
        // fits, the 200 KiB of usbip-binder do not), while compressing (the raw image fits,
        // the .xz does not).
        let cases = [(base, "pi.img", 64 << 10), (base, "pi.img", image - (128 << 10)),
                     (base + ".xz", "pi.img.xz", image + (16 << 10))]
        for (input, output, size) in cases {
            let before = try Project.sha256(input)
            try Self.withSmallDisk(dir, size: size) { out in
                let result = try Project.buildImage(base: input, output: "out/\(output)", in: dir)
                print("full disk, \(size / 1024) KiB tmpfs: \(result.stderr)", terminator: "")
                #expect(result.status == 1)
                #expect(result.stderr == "fpga-lab: error: out/\(output): cannot write the output: \(result.stderr.contains("Write error") ? "Write error: " : "")No space left on device (ENOSPC)\n")
                #expect(Project.listing(out).isEmpty, "\(size): left \(Project.listing(out))")
            }
            #expect(try Project.sha256(input) == before)
        }
    }

    /// (what, how to break a good base inside DIR -> the broken base)
    static let brokenBases: [(String, @Sendable (URL, String) throws -> String, String)] = [
        ("raw cut in the middle of the rootfs", { _, base in
            let layout = try BuildImageIntegrationTests.layout(base)
            let size = try FileManager.default.attributesOfItem(atPath: base)[.size] as! UInt64
            try ProcessRunner.check("truncate", ["-s", "\(layout.rootOffset + (size - layout.rootOffset) / 2)", base])
            return base
        }, "past the end of the image"),
        ("xz cut after 10%", { _, base in try cutXZ(base, at: 0.1) }, "the compressed image is truncated or corrupt"),
        ("xz cut after 90%", { _, base in try cutXZ(base, at: 0.9) }, "the compressed image is truncated or corrupt"),
        ("xz with one byte flipped mid-stream", { _, base in
            try ProcessRunner.check("xz", ["-k", "-T1", base])
            let size = try FileManager.default.attributesOfItem(atPath: base + ".xz")[.size] as! Int
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: base + ".xz"))
            try handle.seek(toOffset: UInt64(size / 2))
            let byte = try #require(try handle.read(upToCount: 1)).first!
            try handle.seek(toOffset: UInt64(size / 2))
            try handle.write(contentsOf: Data([byte ^ 0x55]))
            try handle.close()
            return base + ".xz"
        }, "the compressed image is truncated or corrupt"),
    ]

    static func cutXZ(_ base: String, at fraction: Double) throws -> String {
        try ProcessRunner.check("xz", ["-k", "-T1", base])
        let size = try FileManager.default.attributesOfItem(atPath: base + ".xz")[.size] as! Int
        try ProcessRunner.check("truncate", ["-s", "\(Int(Double(size) * fraction))", base + ".xz"])
        return base + ".xz"
    }

    @Test(arguments: brokenBases.indices)
    func baseThatEndsOrBreaksMidStream(index: Int) throws {
        let (what, spoil, expected) = Self.brokenBases[index]
        try BadBaseIntegrationTests.expectSpoiledRefused(what, scratch: "broken-base", base: { try Self.smallBase(in: $0) },
                                                         spoil: spoil, saying: expected, prefix: { "fpga-lab: error: \($0): " })
    }
}
