@testable import BootFiles
import LabConfig
import Testing

@testable import Overlay

/// Inputs found by `make fuzz` (fuzz-configtxt) that broke a property of the editor.
@Suite("config.txt fuzz regressions")
struct ConfigTxtFuzzRegressionTests {
    /// fuzz-configtxt's input (board byte 5, pi3): a last line ending in two stray carriage
    /// returns and no newline. The edit appends a newline after it, which made one `\r` part of
    /// a CRLF ending and changed the key the Pi 3 saw ("&DefaultIn\r" became "&DefaultIn").
    /// A stray `\r` is now a blank, like a space.
    @Test func strayCarriageReturnsAtTheEnd() {
        let config = ConfigTxt(text: "&DefaultIn\r\r")
        let edited = config.addingDWC2(for: [.pi3])
        let before = config.settings(seenBy: .pi3).map { "\($0.key)=\($0.value)" }
        let after = edited.settings(seenBy: .pi3).map { "\($0.key)=\($0.value)" }
        #expect(before == ["&DefaultIn="])
        #expect(after == ["&DefaultIn=", ConfigTxt.dwc2Line])
    }

    @Test func strayCarriageReturnIsBlank() {
        #expect(ConfigTxt.classify("\r") == .blank)
        #expect(ConfigTxt.classify(" arm_64bit = 1 \r") == .setting(key: "arm_64bit", value: "1"))
        #expect(ConfigTxt.classify("[pi3]\r") == .filter("pi3"))
    }
}
