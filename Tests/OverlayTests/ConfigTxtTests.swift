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

    static let all: [(String, String)] = [
        ("endsInAll", endsInAll), ("endsInCM5", endsInCM5), ("crlf", crlf), ("hasPi3", hasPi3),
        ("gpioOnly", gpioOnly), ("openGPIO", openGPIO), ("empty", empty),
    ]
}

@Suite struct ConfigTxtTests {
    @Test(arguments: StockConfig.all.map(\.0), Board.allCases)
    func dwc2ReachesExactlyTheTargets(shape: String, board: Board) {
        let original = ConfigTxt(text: StockConfig.all.first { $0.0 == shape }!.1)
        let edited = original.addingDWC2(for: board.dwc2Targets)
        for model in Board.models {
            if board.dwc2Targets.contains(model) {
                #expect(edited.loadsDWC2(model), "\(model) must load dwc2 after the edit")
            } else if !model.hasDwcOtg {
                #expect(edited.loadsDWC2(model) == original.loadsDWC2(model), "\(model) must see no change")
                #expect(edited.settings(seenBy: model).map(\.key) == original.settings(seenBy: model).map(\.key))
            }
        }
        #expect(edited.addingDWC2(for: board.dwc2Targets).text == edited.text, "a second run changes nothing")
        let kept = original.endsWithNewline ? original.text : original.text + original.newline
        if board.dwc2Targets.isEmpty {
            #expect(edited.text == original.text, "boards without dwc_otg leave the file alone")
        } else {
            #expect(edited.text.hasPrefix(kept), "the user's text is kept as it was")
        }
        if shape == "crlf" {
            #expect(edited.lines.count > original.lines.count || board.dwc2Targets.isEmpty)
            #expect(!edited.text.replacingOccurrences(of: "\r\n", with: "").unicodeScalars.contains("\n"))
        }
    }

    @Test func goldenPi3OnBookworm() {
        let edited = ConfigTxt(text: StockConfig.endsInAll).addingDWC2(for: [.pi3])
        #expect(edited.text == StockConfig.endsInAll + """

        # fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP
        [pi3]
        dtoverlay=dwc2,dr_mode=host
        [all]

        """)
    }

    @Test func goldenAutoOnFileEndingInCM5() {
        let edited = ConfigTxt(text: StockConfig.endsInCM5).addingDWC2(for: Board.auto.dwc2Targets)
        #expect(edited.text == StockConfig.endsInCM5 + """

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
        #expect(config.addingDWC2(for: [.pi3plus]).text == StockConfig.hasPi3)
        #expect(config.addingDWC2(for: [.pi0w]).text == StockConfig.hasPi3)
        #expect(config.addingDWC2(for: [.pi2]).text != StockConfig.hasPi3)
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

    @Test func refusesSeveralLines() {
        #expect(throws: CmdlineTxt.EditError.multipleLines) { try CmdlineTxt.addingModule("dwc2", to: "a\nb\n") }
    }
}
