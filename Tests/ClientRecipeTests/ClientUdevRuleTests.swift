import LabConfig
import Testing
@testable import ClientRecipe

@Suite struct ClientUdevRuleTests {
    static func ruleLines(_ lab: Lab) throws -> [String] {
        let overlay = try ClientRecipe(store: .init()).render(lab)
        let text = String(decoding: try #require(overlay["99-fpga-lab-client.rules"]?.bytes), as: UTF8.self)
        return text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    @Test func oneTTYRulePerBoardIDWithSerialWhenConfigured() throws {
        let lines = try Self.ruleLines(Labs.lab(ports: 16))
        #expect(lines == [
            #"SUBSYSTEM=="tty", SUBSYSTEMS=="usb", ENV{ID_USB_INTERFACE_NUM}=="", IMPORT{builtin}="usb_id""#,
            #"SUBSYSTEM=="tty", SUBSYSTEMS=="usb", ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6010", ATTRS{serial}=="210319A4B3C1", SYMLINK+="fpga/arty-a7-1", SYMLINK+="fpga/arty-a7-1-if$env{ID_USB_INTERFACE_NUM}""#,
            #"SUBSYSTEM=="tty", SUBSYSTEMS=="usb", ATTRS{idVendor}=="09fb", ATTRS{idProduct}=="6010", SYMLINK+="fpga/de10-nano-1", SYMLINK+="fpga/de10-nano-1-if$env{ID_USB_INTERFACE_NUM}""#,
            #"SUBSYSTEM=="tty", SUBSYSTEMS=="usb", ATTRS{idVendor}=="09fb", ATTRS{idProduct}=="6810", SYMLINK+="fpga/de10-nano-1", SYMLINK+="fpga/de10-nano-1-if$env{ID_USB_INTERFACE_NUM}""#,
        ])
    }

    @Test func theServerSidePortPathIsNotMatchedOnTheClient() throws {
        let lines = try Self.ruleLines(Labs.lab(ports: 16))
        #expect(!lines.contains { $0.contains("KERNEL") || $0.contains("1-1.3") })
    }

    @Test func noRuleUsesATTRForTheUSBIDs() throws {
        let lines = try Self.ruleLines(Labs.lab(ports: 16))
        #expect(!lines.contains { $0.contains("ATTR{") })
    }

    @Test func alsoIDsAreLabelledInTheComment() throws {
        let overlay = try ClientRecipe(store: .init()).render(Labs.lab(ports: 16))
        let text = String(decoding: try #require(overlay["99-fpga-lab-client.rules"]?.bytes), as: UTF8.self)
        #expect(text.contains("\n# de10-nano-1 (also: 09fb:6810)\n"))
        #expect(text.contains("ATTRS (which searches the parents) is right here"))
    }
}
