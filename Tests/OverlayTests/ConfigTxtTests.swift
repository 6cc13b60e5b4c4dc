@testable import BootFiles
import LabConfig
import Testing
@testable import Overlay

/// Stock config.txt shapes, as Raspberry Pi OS releases ship them.
enum StockConfig {
    static let body = """
    # For more options and information see
    # http://rptl.io/configtxt

    # Enable audio (loads snd_bcm2835)
    dtparam=audio=on
    camera_auto_detect=1
    display_auto_detect=1
    auto_initramfs=1
    dtoverlay=vc4-kms-v3d
    max_framebuffers=2
    disable_fw_kms_setup=1
    arm_64bit=1
    disable_overscan=1
    arm_boost=1

    [cm4]
    # Enable host mode on the 2711 built-in XHCI USB controller.
    otg_mode=1

    [cm5]
    dtoverlay=dwc2,dr_mode=host

    """
    /// Bookworm: ends in `[all]`.
    static let endsInAll = body + "[all]\n"
    /// Some releases end in the `[cm5]` section.
    static let endsInCM5 = body
    static let crlf = endsInAll.replacingOccurrences(of: "\n", with: "\r\n")
    /// A user already added dwc2 for the Pi 3 and for Zeros.
    static let hasPi3 = endsInAll + "[pi3]\ndtoverlay=dwc2,dr_mode=host\n[pi0]\ndtoverlay=dwc2\n[all]\n"
    /// dwc2 only under a GPIO condition: not unconditional, so it must still be added.
    static let gpioOnly = "[gpio4=1]\ndtoverlay=dwc2,dr_mode=host\n[all]\narm_64bit=1"
    /// A stacked filter left open at the end, and no final newline.
    static let openGPIO = "arm_64bit=1\n[gpio4=1]\ndtparam=spi=on"
    static let empty = ""
    /// dwc2 for every board, but as a USB gadget (a Pi 4 in gadget mode must keep it).
    static let peripheral = endsInAll + "dtoverlay=dwc2,dr_mode=peripheral\n"
    /// Plain dwc2: the overlay's default dr_mode is otg.
    static let plainDWC2 = "dtoverlay=dwc2\n"

    static let all: [(String, String)] = [
        ("endsInAll", endsInAll), ("endsInCM5", endsInCM5), ("crlf", crlf), ("hasPi3", hasPi3),
        ("gpioOnly", gpioOnly), ("openGPIO", openGPIO), ("empty", empty),
        ("peripheral", peripheral), ("plainDWC2", plainDWC2),
    ]
}

extension ConfigTxt {
    /// The file as UTF-8 text, for comparing with literals.
    var string: String { String(decoding: bytes, as: UTF8.self) }
}

@Suite struct ConfigTxtTests {
    @Test(arguments: StockConfig.all.map(\.0), Board.allCases)
    func dwc2ReachesExactlyTheTargets(shape: String, board: Board) {
        let original = ConfigTxt(text: StockConfig.all.first { $0.0 == shape }!.1)
        let edited = original.addingDWC2(for: board.dwc2Targets)
        for model in Board.models {
            if board.dwc2Targets.contains(model) {
                #expect(edited.hostsDWC2(model), "\(model) must load dwc2 in host mode after the edit")
            } else if !model.hasDwcOtg {
                #expect(edited.loadsDWC2(model) == original.loadsDWC2(model), "\(model) must see no change")
                #expect(edited.settings(seenBy: model).map(\.key) == original.settings(seenBy: model).map(\.key))
            }
        }
        #expect(edited.addingDWC2(for: board.dwc2Targets).string == edited.string, "a second run changes nothing")
        let kept = original.endsWithNewline ? original.bytes : original.bytes + original.newline
        if board.dwc2Targets.isEmpty {
            #expect(edited.bytes == original.bytes, "boards without dwc_otg leave the file alone")
        } else {
            #expect(edited.bytes.starts(with: kept), "the user's bytes are kept as they were")
        }
        if shape == "crlf" {
            #expect(edited.lines.count > original.lines.count || board.dwc2Targets.isEmpty)
            #expect(!edited.string.replacingOccurrences(of: "\r\n", with: "").unicodeScalars.contains("\n"))
        }
    }

    @Test func goldenPi3OnBookworm() {
        let edited = ConfigTxt(text: StockConfig.endsInAll).addingDWC2(for: [.pi3])
        #expect(edited.string == StockConfig.endsInAll + """

        # fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP
        [pi3]
        dtoverlay=dwc2,dr_mode=host
        [all]

        """)
    }

    @Test func goldenAutoOnFileEndingInCM5() {
        let edited = ConfigTxt(text: StockConfig.endsInCM5).addingDWC2(for: Board.auto.dwc2Targets)
        #expect(edited.string == StockConfig.endsInCM5 + """

        [all]
        # fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP
        [pi0]
        dtoverlay=dwc2,dr_mode=host
        [pi1]
        dtoverlay=dwc2,dr_mode=host
        [pi2]
        dtoverlay=dwc2,dr_mode=host
        [pi3]
        dtoverlay=dwc2,dr_mode=host
        [all]

        """)
    }

    @Test func stockCM5LineIsNotSeenByAPi3() {
        let config = ConfigTxt(text: StockConfig.endsInAll)
        #expect(config.loadsDWC2(.cm5))
        #expect(!config.loadsDWC2(.pi3))
        #expect(!config.loadsDWC2(.pi5))
    }

    @Test func existingLinesAreFoundByEvaluation() {
        let config = ConfigTxt(text: StockConfig.hasPi3)
        #expect(config.addingDWC2(for: [.pi3plus]).string == StockConfig.hasPi3)
        #expect(config.addingDWC2(for: [.pi2]).string != StockConfig.hasPi3)
        // `[pi0] dtoverlay=dwc2` loads dwc2 in its default otg mode: not done (issue 18 item 6).
        #expect(config.dwc2(seenBy: .pi0w) == ConfigTxt.DWC2Mode(mode: "otg", line: 25))
        #expect(config.addingDWC2(for: [.pi0w]).string == StockConfig.hasPi3 + """

            # fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP
            [pi0w]
            dtoverlay=dwc2,dr_mode=host
            [all]

            """)
    }

    /// Every byte the edit does not change comes back as it was read: a Latin-1 comment (0xE9,
    /// not UTF-8), a mix of CRLF and LF endings, and no final newline (issue 18 item 5: the file
    /// used to be decoded as UTF-8, turning 0xE9 into U+FFFD, and rejoined with one ending).
    @Test func bytesThatAreNotUTF8AreKept() {
        let input: [UInt8] = Array("# caf".utf8) + [0xE9] + Array(" au lait\r\narm_64bit=1\n[pi4]\r\ngpu_mem=".utf8) + [0xFF, 0xE9]
        let config = ConfigTxt(bytes: input)
        #expect(config.bytes == input)
        #expect(config.newline == [13, 10])
        #expect(config.lines.map(\.kind) == [.comment, .setting(key: "arm_64bit", value: "1"), .filter("pi4"),
                                             .setting(key: "gpu_mem", value: "\u{FFFD}\u{FFFD}")])
        let edited = config.addingDWC2(for: [.pi3])
        #expect(edited.bytes.starts(with: input + [13, 10]))
        #expect(edited.bytes.count == input.count + 2 + Array("\r\n[all]\r\n# fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP\r\n[pi3]\r\ndtoverlay=dwc2,dr_mode=host\r\n[all]\r\n".utf8).count)
        #expect(edited.hostsDWC2(.pi3))
        #expect(edited.addingDWC2(for: [.pi3]).bytes == edited.bytes)
        #expect(ConfigTxt(bytes: [0x0A, 0x0D, 0x0A]).bytes == [0x0A, 0x0D, 0x0A])
        #expect(ConfigTxt(bytes: []).bytes == [])
    }

    /// The dr_mode a board ends up with, as the firmware applies the lines (issue 18 item 6: an
    /// existing dwc2 line counted as done whatever its mode).
    @Test(arguments: [
        ("dtoverlay=dwc2,dr_mode=host\n", "host", 1, false),
        ("dtoverlay=dwc2,dr_mode=peripheral\n", "peripheral", 1, false),
        ("dtoverlay=dwc2,dr_mode=otg\n", "otg", 1, false),
        ("dtoverlay=dwc2\n", "otg", 1, false),
        ("dtoverlay=dwc2\ndtparam=dr_mode=peripheral\n", "peripheral", 2, false),
        ("dtoverlay=dwc2,dr_mode=peripheral\ndtparam=spi=on,dr_mode=host\n", "host", 2, false),
        // dtparam= after `dtoverlay=` (alone) or another overlay is not dwc2's.
        ("dtoverlay=dwc2\ndtoverlay=\ndtparam=dr_mode=host\n", "otg", 1, false),
        ("dtoverlay=dwc2\ndtoverlay=i2c-gpio\ndtparam=dr_mode=host\n", "otg", 1, false),
        // The last load sets dr_mode.
        ("dtoverlay=dwc2,dr_mode=host\ndtoverlay=dwc2\n", "otg", 2, false),
        ("[pi4]\ndtoverlay=dwc2,dr_mode=peripheral\n[all]\ndtoverlay=dwc2,dr_mode=host\n", "host", 4, false),
        ("[pi3]\ndtoverlay=dwc2,dr_mode=host\n[pi3+]\ndtparam=dr_mode=otg\n", "otg", 4, false),
        // A runtime filter may change it: not host for sure.
        ("dtoverlay=dwc2,dr_mode=host\n[gpio4=1]\ndtparam=dr_mode=peripheral\n", "host", 3, true),
        ("dtoverlay=dwc2,dr_mode=host\n[gpio4=1]\ndtoverlay=dwc2\n", "host", 3, true),
    ])
    func effectiveDrMode(file: String, mode: String, line: Int, conditional: Bool) {
        let config = ConfigTxt(text: file)
        #expect(config.dwc2(seenBy: .pi3plus) == ConfigTxt.DWC2Mode(mode: mode, line: line - 1, conditional: conditional))
        let edited = config.addingDWC2(for: [.pi3plus])
        #expect(edited.hostsDWC2(.pi3plus))
        #expect(edited.addingDWC2(for: [.pi3plus]).bytes == edited.bytes)
        #expect(edited.settings(seenBy: .pi4).map(\.value) == config.settings(seenBy: .pi4).map(\.value))
        let notes = config.dwc2ModeNotes(for: [.pi3plus], file: "config.txt in base.img", edited: edited)
        if mode == "host" && !conditional {
            #expect(edited.bytes == config.bytes)
            #expect(notes.isEmpty)
        } else {
            #expect(notes.count == 1)
            #expect(notes.first?.hasPrefix("config.txt in base.img:\(line): `") == true, "\(notes)")
            #expect(notes.first?.contains(conditional ? "runtime filter on pi3+" : "leaves pi3+ with dwc2 in \(mode) mode") == true, "\(notes)")
            #expect(notes.first?.contains("at lines \(config.lines.count + 1)-\(edited.lines.count)") == true, "\(notes)")
        }
    }

    @Test func notesGroupBoardsByLine() {
        let config = ConfigTxt(text: StockConfig.peripheral)
        let targets = Board.auto.dwc2Targets
        let edited = config.addingDWC2(for: targets)
        #expect(config.dwc2ModeNotes(for: targets, file: "config.txt", edited: edited) == [
            "config.txt:23: `dtoverlay=dwc2,dr_mode=peripheral` leaves pi0, pi0w, pi02, pi1, pi2, pi3, pi3+, cm3 with dwc2 in peripheral mode, but fpga-lab needs host mode; added `dtoverlay=dwc2,dr_mode=host` for them at lines 24-34, which the firmware applies after it",
        ])
        #expect(edited.dwc2(seenBy: .pi4) == config.dwc2(seenBy: .pi4), "a Pi 4 gadget keeps its peripheral mode")
    }

    @Test func filtersFollowTheFirmwareRules() {
        let config = ConfigTxt(text: "[pi4]\na=1\n[cm4]\nb=1\n[gpio4=1]\nc=1\n[all]\n[none]\nd=1\n[pi3]\ne=1\n[all]\nf=1\n")
        #expect(config.settings(seenBy: .cm4).map(\.key) == ["a", "b", "f"])
        #expect(config.settings(seenBy: .pi400).map(\.key) == ["a", "f"])
        #expect(config.settings(seenBy: .pi3).map(\.key) == ["f"])
        #expect(config.visibility(for: .cm4)[5] == .conditional)
    }

    @Test func singleBoardsGetTheirNarrowFilter() {
        #expect(ConfigTxt.filters(covering: [.pi0w], within: [.pi0w]) == ["pi0w"])
        #expect(ConfigTxt.filters(covering: [.cm3], within: [.cm3]) == ["pi3"])
        #expect(ConfigTxt.filters(covering: [.pi3plus], within: [.pi3plus]) == ["pi3+"])
    }
}

@Suite struct CmdlineTxtTests {
    static let stock = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n"

    @Test(arguments: [
        (stock, "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait modules-load=dwc2\n"),
        ("root=/dev/mmcblk0p2 modules-load=g_ether rootwait", "root=/dev/mmcblk0p2 modules-load=g_ether,dwc2 rootwait"),
        ("modules-load=dwc2,g_ether quiet\n", "modules-load=dwc2,g_ether quiet\n"),
        ("quiet  splash\r\n", "quiet  splash modules-load=dwc2\r\n"),
        ("", "modules-load=dwc2"),
        ("a modules-load= b", "a modules-load=dwc2 b"),
    ])
    func mergesIntoOneList(input: String, expected: String) throws {
        let once = try CmdlineTxt.addingModule("dwc2", to: input)
        #expect(once == expected)
        #expect(try CmdlineTxt.addingModule("dwc2", to: once) == once)
    }

    /// The command line as the kernel splits it (issue 18 item 8): `modules-load=` inside a
    /// quoted value is no parameter, tabs separate too, a quote may open a parameter or its
    /// value, and systemd's `modules_load=` spelling is the same list.
    @Test(arguments: [
        (#"dyndbg="file x.c +p; modules-load=x" rootwait"#, #"dyndbg="file x.c +p; modules-load=x" rootwait modules-load=dwc2"#),
        (#"dyndbg="modules-load=dwc2""#, #"dyndbg="modules-load=dwc2" modules-load=dwc2"#),
        ("quiet\tmodules-load=g_ether\n", "quiet\tmodules-load=g_ether,dwc2\n"),
        (#"modules-load="g_ether" quiet"#, #"modules-load="g_ether,dwc2" quiet"#),
        (#""modules-load=g_ether" quiet"#, #""modules-load=g_ether,dwc2" quiet"#),
        ("modules_load=g_ether", "modules_load=g_ether,dwc2"),
        ("modules-load=g_ether,", "modules-load=g_ether,dwc2"),
        (#"a="b c" d "#, #"a="b c" d modules-load=dwc2 "#),
    ])
    func splitsLikeTheKernel(input: String, expected: String) throws {
        let once = try CmdlineTxt.addingModule("dwc2", to: input)
        #expect(once == expected)
        #expect(try CmdlineTxt.addingModule("dwc2", to: once) == once)
    }

    @Test func parametersFollowNextArg() {
        let line = Array(#" a="b c" "d=e f" g  h="" "#.utf8)
        let (parameters, open) = CmdlineTxt.parameters(of: line)
        #expect(!open)
        let text = { (range: Range<Int>?) in range.map { String(decoding: line[$0], as: UTF8.self) } }
        #expect(parameters.map { text($0.range) } == [#"a="b c""#, #""d=e f""#, "g", #"h="""#])
        #expect(parameters.map { text($0.name) } == ["a", "d", "g", "h"])
        #expect(parameters.map { text($0.value) } == ["b c", "e f", nil, ""])
    }

    @Test func refusesToAppendInsideAnOpenQuote() throws {
        #expect(throws: CmdlineTxt.EditError.unterminatedQuote) { try CmdlineTxt.addingModule("dwc2", to: #"root=/dev/sda2 dyndbg="x y"#) }
        #expect(try CmdlineTxt.addingModule("dwc2", to: #"modules-load=a dyndbg="x y"#) == #"modules-load=a,dwc2 dyndbg="x y"#)
    }

    /// Bytes that are not UTF-8 (issue 18 item 5) are kept.
    @Test func bytesThatAreNotUTF8AreKept() throws {
        let input: [UInt8] = Array("console=tty1 label=caf".utf8) + [0xE9, 0xFF] + Array(" rootwait\r\n".utf8)
        #expect(try CmdlineTxt.addingModule("dwc2", to: input)
                == Array("console=tty1 label=caf".utf8) + [0xE9, 0xFF] + Array(" rootwait modules-load=dwc2\r\n".utf8))
    }

    @Test func refusesSeveralLines() {
        #expect(throws: CmdlineTxt.EditError.multipleLines) { try CmdlineTxt.addingModule("dwc2", to: "a\nb\n") }
    }
}
