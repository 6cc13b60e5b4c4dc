import DiskFormats
import Ext4FS
import ImageBuild
import Foundation
import Overlay
import Testing
import TestSupport

/// Nothing fpga-lab writes lands outside the root it writes to: overlay paths stay relative and
/// below the root, build-image never writes through a symlink of the base image (ext4) and
/// refuses `..` and odd names (FAT), and `render --output-dir` never writes through a symlink
/// on the host.
@Suite(.serialized) struct OverlaySafetyIntegrationTests {
    @Test func overlayRefusesPathsThatLeaveTheRoot() throws {
        var overlay = Overlay()
        for (path, reason) in [("../etc/passwd", "it has a '..' part"), ("etc/../../x", "it has a '..' part"),
                               ("/etc/x", "it is absolute"), ("", "it is empty"), ("etc//x", "it has an empty part"),
                               ("etc/x/", "it has an empty part"), ("etc/./x", "it has a '.' part"), ("etc/a\0b", "it holds a NUL byte")] {
            #expect(throws: OverlayPathError.invalid(path: path, reason: reason)) { try overlay.addFile(path, "x") }
        }
        try overlay.add(OverlayEntry(symlink: "etc/link", target: "/tmp"))
        #expect(throws: OverlayPathError.belowSymlink(path: "etc/link/x", link: "etc/link")) { try overlay.addFile("etc/link/x", "x") }
        try overlay.addFile("etc/dir/x", "x")
        #expect(throws: OverlayPathError.belowSymlink(path: "etc/dir/x", link: "etc/dir")) {
            try overlay.add(OverlayEntry(symlink: "etc/dir", target: "/tmp"))
        }
        #expect(overlay.entries.map(\.path) == ["etc", "etc/dir", "etc/dir/x", "etc/link"], "nothing refused was added")
        #expect("\(OverlayPathError.invalid(path: "../x", reason: "it has a '..' part"))"
                == #"overlay path "../x" is refused: it has a '..' part (paths are relative to the Pi's root, made of names other than '.' and '..')"#)
    }

    /// A rootfs made by `mkfs.ext4 -d` from a tree shaped like Raspberry Pi OS's (merged /usr,
    /// /tmp/evil holding one file), changed by `shell` (run in the tree), put in place of the
    /// small stand-in's rootfs. Returns the base and the rootfs alone.
    static func baseWithRootfs(in dir: URL, _ shell: String) throws -> (base: String, rootfs: String) {
        let base = try BuildImageIntegrationTests.makeBase(in: dir, extra: ["--boot-mib", "16"])
        let layout = try BuildImageIntegrationTests.layout(base)
        let size = try FileManager.default.attributesOfItem(atPath: base)[.size] as! UInt64
        let tree = dir.appendingPathComponent("tree").path, rootfs = dir.appendingPathComponent("root.ext4").path
        try ProcessRunner.check("sh", ["-ec", """
            rm -rf "$1" && mkdir -p "$1" && cd "$1"
            mkdir -p etc/systemd/system/multi-user.target.wants etc/udev/rules.d usr/bin usr/sbin usr/lib usr/local/sbin boot/firmware tmp/evil var/lib/dpkg
            ln -s usr/bin bin && ln -s usr/lib lib
            printf 'raspberrypi\\n' > etc/hostname
            printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\traspberrypi\\n' > etc/hosts
            cp /usr/bin/env usr/bin/env && printf 'amd64\\n' > var/lib/dpkg/arch
            printf 'keep\\n' > tmp/evil/keep
            \(shell)
            """, "sh", tree])
        try ProcessRunner.check("truncate", ["-s", "\(size - layout.rootOffset)", rootfs])
        try ProcessRunner.check("mkfs.ext4", ["-q", "-F", "-O", "^64bit,^huge_file", "-b", "4096", "-d", tree, rootfs],
                          environment: ["E2FSPROGS_FAKE_TIME": "1731974400"])
        try ProcessRunner.check("dd", ["if=\(rootfs)", "of=\(base)", "bs=1M", "oflag=seek_bytes", "seek=\(layout.rootOffset)", "conv=notrunc", "status=none"])
        return (base, rootfs)
    }

    /// (symlink put in the base, its target, the directory the error names)
    static let symlinkedDirectories: [(String, String)] = [
        ("etc/udev/rules.d", "/tmp/evil"),
        ("etc/udev/rules.d", "../../../../tmp"),
        ("etc/systemd/system", "/boot/firmware"),
        ("usr/local/sbin", "../../tmp/evil"),
        ("etc/fpga-lab", "/tmp/evil"),
    ]

    @Test(arguments: symlinkedDirectories.indices)
    func buildImageRefusesToWriteThroughASymlinkOfTheBase(index: Int) throws {
        let (link, target) = Self.symlinkedDirectories[index]
        let dir = try Project.scratch("symlinked-base")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (base, _) = try Self.baseWithRootfs(in: dir, #"rm -rf "\#(link)" && ln -s "\#(target)" "\#(link)""#)
        let before = try Project.sha256(base)
        let result = try Project.buildImage(base: base, output: "out/pi.img", in: dir)
        #expect(result.status == 1)
        #expect(result.stderr == "fpga-lab: error: \(base): rootfs: refusing to write /\(link): /\(link) is a symlink (-> \(target)) in the image, and fpga-lab never writes through symlinks\n",
                "\(result.stderr)")
        #expect(Project.listing(dir.appendingPathComponent("out")).isEmpty)
        #expect(try Project.sha256(base) == before)
    }

    /// The writer itself, on the rootfs alone: every write through a symlink is refused, a
    /// final symlink is replaced (its target untouched), and the file system stays clean.
    @Test func ext4WritesNeverGoThroughSymlinks() throws {
        let dir = try Project.scratch("ext4-symlinks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, rootfs) = try Self.baseWithRootfs(in: dir, """
            rm -rf etc/udev/rules.d etc/systemd/system && ln -s /tmp/evil etc/udev/rules.d
            ln -s /boot/firmware etc/systemd/system && ln -sf /tmp/evil/keep etc/hostname
            """)
        let volume = try Ext4Volume(imagePath: rootfs, offset: 0, writable: true, now: 1_700_000_000)
        volume.writeSymlinks = .refuse
        let bytes = Array("x\n".utf8)
        #expect(throws: Ext4Error.symlinkInPath(path: "etc/udev/rules.d/90-fpga-lab.rules", link: "etc/udev/rules.d", target: "/tmp/evil")) {
            try volume.writeFile("etc/udev/rules.d/90-fpga-lab.rules", bytes: bytes, mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000)
        }
        #expect(throws: Ext4Error.symlinkInPath(path: "etc/systemd/system/multi-user.target.wants/x.service", link: "etc/systemd/system", target: "/boot/firmware")) {
            try volume.makeSymlink("etc/systemd/system/multi-user.target.wants/x.service", target: "/x", uid: 0, gid: 0, mtime: 1_700_000_000)
        }
        #expect(throws: Ext4Error.symlinkInPath(path: "etc/systemd/system", link: "etc/systemd/system", target: "/boot/firmware")) {
            try volume.makeDirectory("etc/systemd/system", mode: 0o755, uid: 0, gid: 0, mtime: 1_700_000_000)
        }
        #expect(throws: Ext4Error.symlinkInPath(path: "lib/x", link: "lib", target: "usr/lib")) {
            try volume.writeFile("lib/x", bytes: bytes, mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000)
        }
        #expect(throws: Ext4Error.invalidPath(path: "etc/../tmp/evil/x")) {
            try volume.writeFile("etc/../tmp/evil/x", bytes: bytes, mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000)
        }
        try volume.writeFile("etc/hostname", bytes: Array("fpga-pi-01\n".utf8), mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000)
        try volume.writeFile("etc/fpga-lab/binder.conf", bytes: bytes, mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000)
        try volume.close()

        let fsck = try ProcessRunner.run("e2fsck", ["-fn", rootfs])
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
        let debugfs = { (request: String) in try Ext4Tools.debugfs(rootfs, request) }
        #expect(try debugfs("ls /tmp/evil").split(whereSeparator: \.isWhitespace).filter { !$0.hasPrefix("(") && !$0.allSatisfy(\.isNumber) } == [".", "..", "keep"])
        #expect(try debugfs("cat /tmp/evil/keep") == "keep\n", "the old symlink's target is untouched")
        #expect(try debugfs("ls /boot/firmware").split(whereSeparator: \.isWhitespace).filter { !$0.hasPrefix("(") && !$0.allSatisfy(\.isNumber) } == [".", ".."])
        #expect(try debugfs("stat /etc/hostname").contains("Type: regular"))
        #expect(try debugfs("cat /etc/hostname") == "fpga-pi-01\n")
        #expect(try debugfs("cat /etc/fpga-lab/binder.conf") == "x\n")
    }

    /// A base whose /etc/hostname is a symlink builds: the link is replaced by the file, its
    /// target is not written, and both file systems are clean.
    @Test func finalSymlinkIsReplacedNotFollowed() throws {
        let dir = try Project.scratch("final-symlink")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (base, _) = try Self.baseWithRootfs(in: dir, "ln -sf /tmp/evil/keep etc/hostname")
        let result = try Project.buildImage(base: base, output: "out/pi.img", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let root = try BuildImageIntegrationTests.expectClean(dir.appendingPathComponent("out/pi.img").path, in: dir)
        #expect(try Ext4Tools.debugfs(root, "cat /tmp/evil/keep") == "keep\n")
        #expect(try Ext4Tools.debugfs(root, "cat /etc/hostname") == "fpga-pi-01\n")
    }

    @Test func fatWritesRefuseDotDotAndOddNames() throws {
        let dir = try Project.scratch("fat-names")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try BuildImageIntegrationTests.makeBase(in: dir, extra: ["--boot-mib", "16"])
        let layout = try BuildImageIntegrationTests.layout(base)
        let listing = { try ProcessRunner.check("mdir", ["-/", "-i", "\(base)@@\(layout.bootOffset)", "::"]).stdout }
        let before = try listing()
        let volume = try FATVolume(image: try ImageFile(path: base, writable: true), range: ByteRange(offset: layout.bootOffset, length: layout.bootSize))
        for path in ["../config.txt", "overlays/../../x", "./x", "a/./b"] {
            #expect(throws: FATError.invalidName(volume: "bootfs", name: path, reason: "'.' and '..' are not allowed in paths"), "\(path)") {
                try volume.writeFile(path, [1], modified: 1_700_000_000)
            }
        }
        #expect(throws: FATError.invalidName(volume: "bootfs", name: "..", reason: "'.' and '..' are not allowed in paths")) {
            try volume.makeDirectory("..", modified: 1_700_000_000)
        }
        for (name, reason) in [("a\\b", "contains '\\'"), ("c:x", "contains ':'"), ("x\u{1}", "contains a control character"), ("dot.", "ends in a dot or a space")] {
            #expect(throws: FATError.invalidName(volume: "bootfs", name: name, reason: reason)) { try volume.writeFile(name, [1], modified: 1_700_000_000) }
        }
        #expect(throws: FATError.isADirectory(volume: "bootfs", path: "/")) { try volume.writeFile("", [1], modified: 1_700_000_000) }
        try volume.flush()
        #expect(try listing() == before, "nothing was written")
        let boot = dir.appendingPathComponent("boot.fs").path
        try BuildImageIntegrationTests.extract(base, offset: layout.bootOffset, size: layout.bootSize, to: boot)
        let fsck = try ProcessRunner.run("fsck.fat", ["-n", boot])
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
    }

    @Test func renderOutputDirNeverWritesThroughASymlink() throws {
        let dir = try Project.scratch("render-symlinks")
        defer { try? FileManager.default.removeItem(at: dir) }
        let victim = try dir.appendingPathComponent("victim").creatingDirectory()
        try Data("precious\n".utf8).write(to: victim.appendingPathComponent("file"))
        let victimListing = { try ProcessRunner.check("find", [victim.path, "-printf", "%p %y %s %T@ %C@\\n"]).stdout }
        let victimBefore = try victimListing()

        // DIR itself a symlink: refused, the target untouched.
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("linked").path, withDestinationPath: victim.path)
        let linked = try Project.fpgaLab(["render", "--config", Project.exampleLab, "--output-dir", "linked"], in: dir)
        #expect(linked.status == 1)
        #expect(linked.stderr.split(separator: "\n").last == "fpga-lab: error: linked: is a symlink (-> \(victim.path)); give the directory itself: fpga-lab replaces it and never writes through a symlink", "\(linked.stderr)")

        // Symlinks inside an earlier DIR (a directory and a file pointing at the victim): the
        // new tree replaces them, the victim is neither written nor removed.
        let first = try Project.fpgaLab(["render", "--config", Project.exampleLab, "--output-dir", "overlay"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let overlay = dir.appendingPathComponent("overlay")
        try FileManager.default.removeItem(at: overlay.appendingPathComponent("etc/udev"))
        try FileManager.default.createSymbolicLink(atPath: overlay.appendingPathComponent("etc/udev").path, withDestinationPath: victim.path)
        try FileManager.default.removeItem(at: overlay.appendingPathComponent("etc/hostname"))
        try FileManager.default.createSymbolicLink(atPath: overlay.appendingPathComponent("etc/hostname").path, withDestinationPath: victim.appendingPathComponent("file").path)
        let second = try Project.fpgaLab(["render", "--config", Project.exampleLab, "--output-dir", "overlay"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try victimListing() == victimBefore)
        #expect(try String(contentsOf: victim.appendingPathComponent("file"), encoding: .utf8) == "precious\n")
        let links = try ProcessRunner.check("find", [overlay.path, "-type", "l"]).stdout.split(separator: "\n")
        #expect(links == ["\(overlay.path)/etc/systemd/system/multi-user.target.wants/usbip-binder.service"], "only the overlay's own link")
        #expect(Project.listing(dir).filter { $0.contains(".partial-") }.isEmpty)
    }

    /// OUT, OUT.bmap and SHA256SUMS that are symlinks are replaced by the new files, never
    /// written through.
    @Test func buildImageReplacesSymlinkedOutputs() throws {
        let dir = try Project.scratch("symlinked-out")
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try BuildImageIntegrationTests.makeBase(in: dir, extra: ["--boot-mib", "16"])
        let out = try dir.appendingPathComponent("out").creatingDirectory()
        for name in ["pi.img", "pi.img.bmap", "SHA256SUMS"] {
            try Data("victim \(name)\n".utf8).write(to: dir.appendingPathComponent("victim-\(name)"))
            try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent(name).path, withDestinationPath: "../victim-\(name)")
        }
        let result = try Project.buildImage(base: base, output: "out/pi.img", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["pi.img", "pi.img.bmap", "SHA256SUMS"] {
            #expect(try String(contentsOf: dir.appendingPathComponent("victim-\(name)"), encoding: .utf8) == "victim \(name)\n")
            #expect(try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent(name).path)[.type] as? FileAttributeType == .typeRegular)
        }
        try ProcessRunner.check("sha256sum", ["-c", "SHA256SUMS"], in: out)
    }
}
