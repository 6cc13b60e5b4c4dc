import FuzzSupport
import LabConfig
import Overlay

/// Fuzz target: config.txt (and cmdline.txt) as `build-image` reads them from a base image's
/// boot partition: parse, evaluate for every board, add the dwc2 overlay for the boards of a
/// lab whose `server.board` is picked by the first byte, add `modules-load=dwc2`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let board = Board.allCases[Int(bytes.first ?? 0) % Board.allCases.count]
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let config = ConfigTxt(text: text)
    func seen(_ file: ConfigTxt, _ board: Board) -> [String] {
        file.settings(seenBy: board).map { "\($0.key)=\($0.value)" }
    }
    for model in Board.allCases {
        FuzzDriver.check(config.visibility(for: model).count == config.lines.count, "one visibility per line")
        _ = config.loadsDWC2(model)
    }
    let targets = board.dwc2Targets
    let edited = config.addingDWC2(for: targets)
    for model in Board.models {
        let before = seen(config, model), after = seen(edited, model)
        if targets.contains(model) {
            FuzzDriver.check(edited.loadsDWC2(model), "\(model) does not load dwc2 after the edit")
            // A board that loads dwc2 already may see the line again under a broad filter
            // (`[pi3]` for pi3 and cm3 also reaches a pi3+ that has it): the fewest filters win.
            let added = before + [ConfigTxt.dwc2Line]
            let fine = after == added || (config.loadsDWC2(model) && after == before)
            FuzzDriver.check(fine, "\(model) sees \(after), expected \(before) plus the dwc2 line")
        } else if !model.hasDwcOtg {
            FuzzDriver.check(after == before, "the edit changed what \(model) sees: \(before) -> \(after)")
        }
    }
    FuzzDriver.check(edited.addingDWC2(for: targets).text == edited.text, "adding dwc2 twice changed the file")

    if let cmdline = try? CmdlineTxt.addingModule("dwc2", to: text) {
        let again = try? CmdlineTxt.addingModule("dwc2", to: cmdline)
        FuzzDriver.check(again == cmdline, "adding dwc2 to cmdline.txt twice changed it")
    }
    return 0
}

FuzzDriver.run(fuzz)
