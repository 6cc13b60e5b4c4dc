import FuzzSupport
import BootFiles

/// Fuzz target: config.txt (and cmdline.txt) as `build-image` reads them from a base image's
/// boot partition: parse, evaluate for every board, add the dwc2 overlay for the boards of a
/// lab whose `server.board` is picked by the first byte, add `modules-load=dwc2`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let board = Board.allCases[Int(bytes.first ?? 0) % Board.allCases.count]
    let body = Array(bytes.dropFirst())
    let config = ConfigTxt(bytes: body)
    FuzzDriver.check(config.bytes == body, "parsing changed the bytes")
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
            FuzzDriver.check(edited.hostsDWC2(model), "\(model) does not load dwc2 in host mode after the edit")
            // A board that has dwc2 in host mode already may see the line again under a broad filter
            // (`[pi3]` for pi3 and cm3 also reaches a pi3+ that has it): the fewest filters win.
            let added = before + [ConfigTxt.dwc2Line]
            let fine = after == added || (config.hostsDWC2(model) && after == before)
            FuzzDriver.check(fine, "\(model) sees \(after), expected \(before) plus the dwc2 line")
        } else if !model.hasDwcOtg {
            FuzzDriver.check(after == before, "the edit changed what \(model) sees: \(before) -> \(after)")
        }
    }
    FuzzDriver.check(edited.addingDWC2(for: targets).bytes == edited.bytes, "adding dwc2 twice changed the file")
    let kept = config.endsWithNewline ? body : body + config.newline
    FuzzDriver.check(edited.bytes == body || edited.bytes.starts(with: kept), "the edit changed the user's bytes")

    if let cmdline = try? CmdlineTxt.addingModule("dwc2", to: body) {
        let again = try? CmdlineTxt.addingModule("dwc2", to: cmdline)
        FuzzDriver.check(again == cmdline, "adding dwc2 to cmdline.txt twice changed it")
    }
    return 0
}

FuzzDriver.run(fuzz)
