import LabConfig

extension ConfigTxt {
    /// The overlay line that swaps the crash-prone `dwc_otg` driver for `dwc2` in host mode.
    public static let dwc2Line = "dtoverlay=dwc2,dr_mode=host"

    /// True when `board` unconditionally loads the dwc2 overlay (found by evaluation, not by
    /// substring: stock files hold `dtoverlay=dwc2,dr_mode=host` under `[cm5]`, which a Pi 3
    /// never sees).
    public func loadsDWC2(_ board: Board) -> Bool {
        settings(seenBy: board).contains { $0.key == "dtoverlay" && $0.value.split(separator: ",").first == "dwc2" }
    }

    /// The file with `dtoverlay=dwc2,dr_mode=host` added for every target board that does not
    /// already load dwc2, as a new block at the end:
    ///
    ///     # fpga-lab: ...
    ///     [pi3]
    ///     dtoverlay=dwc2,dr_mode=host
    ///     [all]
    ///
    /// preceded by `[all]` when some other filter is still in force at the end of the file.
    /// Idempotent; the user's lines, comments and line endings are kept.
    public func addingDWC2(for targets: [Board]) -> ConfigTxt {
        let missing = targets.filter { !loadsDWC2($0) }
        guard !missing.isEmpty else { return self }
        var block: [String] = []
        if !endsUnfiltered { block.append("[all]") }
        block.append("# fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP")
        for filter in ConfigTxt.filters(covering: missing, within: targets) {
            block += ["[\(filter)]", ConfigTxt.dwc2Line]
        }
        block.append("[all]")
        let separator = lines.last.map { $0.kind == .blank } ?? true ? "" : newline
        return ConfigTxt(text: text + (endsWithNewline ? "" : newline) + separator
                         + block.joined(separator: newline) + newline)
    }

    /// The fewest model filters that reach every board in `missing` and no board outside
    /// `allowed`, falling back to each board's own filter.
    static func filters(covering missing: [Board], within allowed: [Board]) -> [String] {
        var out: [String] = []
        var left = missing
        for broad in ["pi0", "pi1", "pi2", "pi3"] {
            let reached = Board.models.filter { $0.matchesModelFilter(broad) }
            if reached.contains(where: left.contains), reached.allSatisfy(allowed.contains) {
                out.append(broad)
                left.removeAll(where: reached.contains)
            }
        }
        for board in left where !out.contains(board.configFilter) { out.append(board.configFilter) }
        return out
    }
}

/// The kernel command line file of the boot partition: one line of space-separated parameters.
public enum CmdlineTxt {
    public enum EditError: Error, Equatable, CustomStringConvertible {
        case multipleLines

        public var description: String {
            "cmdline.txt holds more than one line; the firmware reads only one: join them first"
        }
    }

    /// `text` with `module` in its `modules-load=` list, added to an existing list (never a
    /// second `modules-load=`) or appended as a new parameter. Spacing, other parameters and the
    /// final line ending are kept; nothing changes when the module is already listed.
    public static func addingModule(_ module: String, to text: String) throws(EditError) -> String {
        var body = text.unicodeScalars[...]
        var ending = ""
        if body.last == "\n" {
            body = body.dropLast()
            ending = "\n"
            if body.last == "\r" {
                body = body.dropLast()
                ending = "\r\n"
            }
        }
        let line = String(String.UnicodeScalarView(body))
        guard !line.unicodeScalars.contains("\n") else { throw .multipleLines }
        let tokens = line.split(separator: " ", omittingEmptySubsequences: true)
        let lists = tokens.filter { $0.hasPrefix("modules-load=") }
        if lists.contains(where: { $0.dropFirst("modules-load=".count).split(separator: ",").contains(Substring(module)) }) {
            return text
        }
        guard let first = lists.first else {
            let kept = String(line.reversed().drop(while: { $0 == " " }).reversed())
            return kept + (kept.isEmpty ? "" : " ") + "modules-load=\(module)" + String(line.dropFirst(kept.count)) + ending
        }
        let merged = first.hasSuffix("=") || first.hasSuffix(",") ? first + module : first + "," + module
        return String(line[..<first.startIndex]) + merged + String(line[first.endIndex...]) + ending
    }
}
