import BootFiles
import Foundation
import LabConfig
import Testing
import TestSupport
@testable import Overlay

/// Golden files live in Tests/OverlayTests/Golden/<case>/<path on the Pi>; run the tests with
/// UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then review the diff.
let golden = GoldenDirectory(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"))

enum Labs {
    static func lab(daemon: Daemon, board: Board = .pi3plus, ssh: Bool = false) -> Lab {
        Lab(
            name: "fpga-lab-1",
            server: Server(board: board, hostname: "fpga-pi-01", daemon: daemon,
                           allow: [try! CIDR(parsing: "192.168.10.0/24"), try! CIDR(parsing: "10.1.2.3")],
                           ssh: ssh ? SSH(user: "lab", authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq admin@host"]) : nil,
                           blacklist: ["ftdi_sio"]),
            devices: [
                Device(name: "arty-a7-1", id: USBID(vendor: "0403", product: "6010")!, serial: "210319A4B3C1"),
                Device(name: "de10-nano-1", id: USBID(vendor: "09fb", product: "6010")!, port: "1-1.3",
                       also: [USBID(vendor: "09fb", product: "6810")!]),
            ],
            client: Client(server: "fpga-pi-01.lab", ports: 16))
    }

    /// The version the golden manifests name: pinned, since a build's own changes with `git describe`.
    static let goldenToolVersion = "0.1.0"

    static func render(_ lab: Lab, _ inputs: OverlayRenderer.Inputs = .init(configBytes: Array("lab: x\n".utf8))) throws -> OverlayRenderer.Result {
        var inputs = inputs
        inputs.toolVersion = goldenToolVersion
        return try OverlayRenderer(store: TemplateStore()).render(lab, inputs)
    }
}

@Suite struct OverlayRendererTests {
    @Test func usbipdOverlayMatchesGolden() throws {
        let inputs = OverlayRenderer.Inputs(configBytes: Array("lab: x\n".utf8),
                                            bootConfig: .init(name: "config.txt", bytes: Array(StockConfig.endsInAll.utf8)),
                                            bootCmdline: .init(name: "cmdline.txt", bytes: Array(CmdlineTxtTests.stock.utf8)))
        let result = try Labs.render(Labs.lab(daemon: .usbipd), inputs)
        try golden.check(result.overlay, case: "usbipd")
        #expect(result.warnings.count == 1)
        #expect(result.warnings[0].contains("/usr/sbin/usbipd"))
    }

    @Test func binderOverlayMatchesGolden() throws {
        let inputs = OverlayRenderer.Inputs(configBytes: Array("lab: x\n".utf8), binderExecutable: Array("\u{7f}ELF-fake".utf8))
        let result = try Labs.render(Labs.lab(daemon: .binder, board: .pi4, ssh: true), inputs)
        try golden.check(result.overlay, case: "binder")
        #expect(result.warnings.isEmpty)
        #expect(result.overlay[OverlayRenderer.binderPath]?.mode == 0o755)
    }

    @Test func binderWithoutExecutableWarns() throws {
        let result = try Labs.render(Labs.lab(daemon: .binder))
        #expect(result.overlay[OverlayRenderer.binderPath] == nil)
        #expect(result.warnings.count == 1 && result.warnings[0].contains("/usr/local/sbin/usbip-binder"))
    }

    @Test func udevRulesFollowTheDesign() throws {
        let rules = try #require(Labs.render(Labs.lab(daemon: .usbipd)).overlay["etc/udev/rules.d/90-fpga-lab.rules"]?.bytes)
        let lines = String(decoding: rules, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.count == 3, "one rule per board ID, also: IDs included")
        for line in lines {
            #expect(line.hasPrefix(#"ACTION=="add", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="#))
            #expect(!line.contains("ATTRS"))
            #expect(line.hasSuffix(#"TAG+="systemd", ENV{SYSTEMD_WANTS}+="usbip-bind@%k.service""#))
        }
        #expect(lines[0].contains(#"ATTR{serial}=="210319A4B3C1""#))
        #expect(lines[2].contains(#"ATTR{idProduct}=="6810""#) && lines[2].contains(#"KERNEL=="1-1.3""#))
    }

    @Test(arguments: [Daemon.usbipd, .binder])
    func bindUnitIsAOneshotThatRunsAgain(daemon: Daemon) throws {
        let overlay = try Labs.render(Labs.lab(daemon: daemon)).overlay
        let unit = String(decoding: try #require(overlay["etc/systemd/system/usbip-bind@.service"]?.bytes), as: UTF8.self)
        #expect(unit.contains("\nType=oneshot\n"))
        #expect(!unit.contains("\nRemainAfterExit="))
        // The busid unescaped (%i, never %I) on the ExecStart= line.
        let exec = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        #expect(exec.contains(" %i") || exec.contains("=%i"))
        #expect(!exec.contains("%I"))
        let server = daemon == .binder ? "usbip-binder.service" : "usbipd.service"
        #expect(unit.contains("After=\(server)\nRequires=\(server)\n"))
        #expect(overlay["etc/systemd/system/multi-user.target.wants/\(server)"]?.content == .symlink("/etc/systemd/system/\(server)"))
    }

    @Test func everyEntryIsOwnedAndModedExactly() throws {
        let overlay = try Labs.render(Labs.lab(daemon: .usbipd, ssh: true)).overlay
        for entry in overlay.entries {
            #expect(entry.uid == 0 && entry.gid == 0)
            switch entry.content {
            case .directory: #expect(entry.mode == 0o755, "\(entry.path)")
            case .file: #expect(entry.mode == 0o644, "\(entry.path)")
            case .symlink: #expect(entry.mode == 0o777, "\(entry.path)")
            }
        }
        #expect(overlay.entries.map(\.path) == overlay.entries.map(\.path).sorted())
        #expect(overlay["boot/firmware/userconf.txt"]?.bytes == Array("lab:*\n".utf8))
        #expect(overlay.bootEntries.map(\.path) == ["userconf.txt"])
        #expect(!overlay.rootEntries.contains { $0.path.hasPrefix("boot") })
    }

    @Test func manifestHashesEveryFile() throws {
        let overlay = try Labs.render(Labs.lab(daemon: .usbipd)).overlay
        let manifest = String(decoding: try #require(overlay[Manifest.path]?.bytes), as: UTF8.self)
        for entry in overlay.entries where entry.path != Manifest.path {
            if let bytes = entry.bytes {
                #expect(manifest.contains("file 0644 0:0 sha256:\(Manifest.sha256Hex(bytes)) \(entry.path)\n"))
            }
        }
        #expect(manifest.hasPrefix("fpga-lab-manifest 1\ntool fpga-lab \(Labs.goldenToolVersion)\nlab fpga-lab-1\nconfig sha256:"))
    }

    /// Unless told otherwise, the manifest names the version of the build that rendered it.
    @Test func manifestNamesThisBuildsVersion() throws {
        let overlay = try OverlayRenderer(store: TemplateStore()).render(Labs.lab(daemon: .usbipd), .init(configBytes: []))
        let manifest = String(decoding: try #require(overlay.overlay[Manifest.path]?.bytes), as: UTF8.self)
        #expect(manifest.split(separator: "\n")[1] == "tool fpga-lab \(FPGALabVersion.current)")
        #expect(!FPGALabVersion.current.isEmpty)
    }

    @Test func pi4BootFilesAreLeftAlone() throws {
        let inputs = OverlayRenderer.Inputs(configBytes: [], bootConfig: .init(name: "config.txt", bytes: Array(StockConfig.endsInAll.utf8)),
                                            bootCmdline: .init(name: "cmdline.txt", bytes: Array(CmdlineTxtTests.stock.utf8)))
        let overlay = try Labs.render(Labs.lab(daemon: .usbipd, board: .pi4), inputs).overlay
        #expect(overlay["boot/firmware/config.txt"]?.bytes == Array(StockConfig.endsInAll.utf8))
        #expect(overlay["boot/firmware/cmdline.txt"]?.bytes == Array(CmdlineTxtTests.stock.utf8))
    }

    /// Issue 18 item 5: config.txt and cmdline.txt that are not UTF-8 keep every byte the edit
    /// does not change (they came back with U+FFFD).
    @Test func bootFilesThatAreNotUTF8KeepTheirBytes() throws {
        let config: [UInt8] = Array("# r".utf8) + [0xE9] + Array("glages\narm_64bit=1\n".utf8)
        let cmdline: [UInt8] = Array("console=tty1 x=".utf8) + [0xE9] + Array(" rootwait\n".utf8)
        let inputs = OverlayRenderer.Inputs(configBytes: [], bootConfig: .init(name: "config.txt", bytes: config),
                                            bootCmdline: .init(name: "cmdline.txt", bytes: cmdline))
        let overlay = try Labs.render(Labs.lab(daemon: .usbipd, board: .pi3), inputs).overlay
        let editedConfig = try #require(overlay["boot/firmware/config.txt"]?.bytes)
        #expect(editedConfig.starts(with: config))
        #expect(ConfigTxt(bytes: editedConfig).hostsDWC2(.pi3))
        #expect(overlay["boot/firmware/cmdline.txt"]?.bytes
                == Array("console=tty1 x=".utf8) + [0xE9] + Array(" rootwait modules-load=dwc2\n".utf8))
        let untouched = try Labs.render(Labs.lab(daemon: .usbipd, board: .pi4), inputs).overlay
        #expect(untouched["boot/firmware/config.txt"]?.bytes == config)
        #expect(untouched["boot/firmware/cmdline.txt"]?.bytes == cmdline)
    }

    /// Issue 18 item 6: a dwc2 line in peripheral mode is overridden and said so, at file:line.
    @Test func dwc2OutsideHostModeIsFixedAndReported() throws {
        let file = "arm_64bit=1\ndtoverlay=dwc2,dr_mode=peripheral\n"
        let inputs = OverlayRenderer.Inputs(configBytes: [], bootConfig: .init(name: "config.txt in base.img", bytes: Array(file.utf8)))
        let result = try Labs.render(Labs.lab(daemon: .usbipd, board: .pi3), inputs)
        let edited = ConfigTxt(bytes: try #require(result.overlay["boot/firmware/config.txt"]?.bytes))
        #expect(edited.dwc2(seenBy: .pi3)?.mode == "host")
        let notes = result.warnings.filter { $0.hasPrefix("config.txt in base.img:2: `dtoverlay=dwc2,dr_mode=peripheral` leaves pi3 with dwc2 in peripheral mode") }
        #expect(notes.count == 1, "\(result.warnings)")
    }

    /// Issue 18 item 7: a boot partition without config.txt gets one on a dwc_otg board (and a
    /// warning); without cmdline.txt the render fails naming it. Boards without dwc_otg need
    /// neither.
    @Test func missingBootFiles() throws {
        let noConfig = OverlayRenderer.Inputs(configBytes: [], bootConfig: .init(name: "config.txt in base.img", bytes: nil),
                                              bootCmdline: .init(name: "cmdline.txt in base.img", bytes: Array(CmdlineTxtTests.stock.utf8)))
        let result = try Labs.render(Labs.lab(daemon: .usbipd, board: .pi3plus), noConfig)
        let created = ConfigTxt(bytes: try #require(result.overlay["boot/firmware/config.txt"]?.bytes))
        #expect(created.hostsDWC2(.pi3plus))
        #expect(result.warnings.contains { $0.hasPrefix("config.txt in base.img does not exist; created it with `dtoverlay=dwc2,dr_mode=host` for pi3+") },
                "\(result.warnings)")
        let pi4 = try Labs.render(Labs.lab(daemon: .usbipd, board: .pi4), noConfig)
        #expect(pi4.overlay["boot/firmware/config.txt"] == nil)
        #expect(!pi4.warnings.contains { $0.contains("config.txt") })

        let noCmdline = OverlayRenderer.Inputs(configBytes: [], bootConfig: .init(name: "config.txt in base.img", bytes: Array(StockConfig.endsInAll.utf8)),
                                               bootCmdline: .init(name: "cmdline.txt in base.img", bytes: nil))
        #expect(throws: RenderError.bootFile("cmdline.txt in base.img", "does not exist, so `modules-load=dwc2` (for pi0, pi0w, pi02, pi1, pi2, pi3, pi3+, cm3) cannot be added; put the kernel command line there (one line) and run again")) {
            try Labs.render(Labs.lab(daemon: .usbipd, board: .auto), noCmdline)
        }
        #expect(try Labs.render(Labs.lab(daemon: .usbipd, board: .pi5), noCmdline).overlay["boot/firmware/cmdline.txt"] == nil)
    }

    @Test func userTemplatesReplaceBuiltInOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("udev"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("# custom {{{lab}}}\n".utf8).write(to: dir.appendingPathComponent("udev/90-fpga-lab.rules.mustache"))
        let overlay = try OverlayRenderer(store: TemplateStore(templatesDirectory: dir.path))
            .render(Labs.lab(daemon: .usbipd), .init(configBytes: [])).overlay
        #expect(overlay["etc/udev/rules.d/90-fpga-lab.rules"]?.bytes == Array("# custom fpga-lab-1\n".utf8))
    }
}

@Suite struct OverlayModelTests {
    @Test func addingAFileCreatesItsParents() throws {
        var overlay = Overlay()
        try overlay.addFile("etc/a/b/c.conf", "x")
        try overlay.addFile("etc/a-b", "y")
        #expect(overlay.entries.map(\.path) == ["etc", "etc/a", "etc/a-b", "etc/a/b", "etc/a/b/c.conf"])
        #expect(overlay["etc/a/b"]?.content == .directory)
        try overlay.addFile("etc/a-b", "z")
        #expect(overlay["etc/a-b"]?.bytes == [0x7a])
        #expect(overlay.entries.count == 5)
    }
}
