extension ConfigTxt {
    /// The overlay line that swaps the crash-prone `dwc_otg` driver for `dwc2` in host mode.
    public static let dwc2Line = "dtoverlay=dwc2,dr_mode=host"

    /// The dwc2 controller as a board's firmware configures it.
    public struct DWC2Mode: Equatable, Sendable {
        /// The `dr_mode` the device tree ends up with: `otg` (the dwc2 overlay's default),
        /// `host`, `peripheral`...
        public var mode: String
        /// Index in `lines` of the line that decided it: the last `dtoverlay=dwc2` line the board
        /// applies, or a later `dtparam=dr_mode=...` line; with `conditional`, the runtime-filtered
        /// line that may change it.
        public var line: Int
        /// True when a line under a runtime filter (`[gpio4=1]`, `[tryboot]`...) may load dwc2 or
        /// set its `dr_mode` after that, so the mode is not known before the board boots.
        public var conditional = false

        /// Host mode for sure, whatever the runtime filters say.
        public var isHost: Bool { mode == "host" && !conditional }
    }

    /// The dwc2 overlay as `board` loads it unconditionally, evaluated the way the firmware reads
    /// the file: each `dtoverlay=dwc2[,dr_mode=X]` loads it again (the last load sets `dr_mode`,
    /// `otg` when not given); a `dtparam=` line sets parameters of the overlay loaded last
    /// (`dtoverlay=` alone goes back to the base device tree's parameters). Nil when `board` does
    /// not load dwc2 unconditionally (stock files hold `dtoverlay=dwc2,dr_mode=host` under
    /// `[cm5]`, which a Pi 3 never sees).
    public func dwc2(seenBy board: Board) -> DWC2Mode? {
        enum Current { case base, dwc2, other, unknown }
        var current = Current.base
        var found: DWC2Mode?
        for (index, (line, seen)) in zip(lines, visibility(for: board)).enumerated() {
            guard seen != .never, case .setting(let key, let value) = line.kind else { continue }
            let certain = seen == .always
            let parts = value.split(separator: ",", omittingEmptySubsequences: false)
            let mode = parts.dropFirst(key == "dtoverlay" ? 1 : 0).compactMap(Self.drMode).last
            switch key {
            case "dtoverlay":
                let name = parts.first.map { String($0).trimmingBlanks() } ?? ""
                if name == "dwc2", certain {
                    found = DWC2Mode(mode: mode ?? "otg", line: index)
                } else if name == "dwc2" {
                    found?.conditional = true
                    found?.line = index
                }
                current = !certain ? .unknown : name.isEmpty ? .base : name == "dwc2" ? .dwc2 : .other
            case "dtparam":
                guard let mode, current == .dwc2 || current == .unknown else { continue }
                if certain, current == .dwc2 {
                    found?.mode = mode
                    found?.line = index
                    found?.conditional = false
                } else {
                    found?.conditional = true
                    found?.line = index
                }
            default:
                continue
            }
        }
        return found
    }

    /// The value of a `dr_mode=X` overlay parameter, nil for any other parameter.
    private static func drMode(_ parameter: Substring) -> String? {
        let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard pair.count == 2, String(pair[0]).trimmingBlanks() == "dr_mode" else { return nil }
        return String(pair[1]).trimmingBlanks()
    }

    /// True when `board` unconditionally loads the dwc2 overlay, in whatever mode.
    public func loadsDWC2(_ board: Board) -> Bool { dwc2(seenBy: board) != nil }

    /// True when `board` ends up with dwc2 in host mode for sure: what fpga-lab needs.
    public func hostsDWC2(_ board: Board) -> Bool { dwc2(seenBy: board)?.isHost ?? false }

    /// The file with `dtoverlay=dwc2,dr_mode=host` added for every target board that does not
    /// already end up with dwc2 in host mode, as a new block at the end:
    ///
    ///     # fpga-lab: ...
    ///     [pi3]
    ///     dtoverlay=dwc2,dr_mode=host
    ///     [all]
    ///
    /// preceded by `[all]` when some other filter is still in force at the end of the file.
    /// A board that loads dwc2 in another mode (`dr_mode=peripheral`, or `otg`, the default of a
    /// plain `dtoverlay=dwc2`) gets the block too: loaded last, it sets `dr_mode=host`. Lines of
    /// the file are never rewritten, so boards outside `targets` see exactly what they saw.
    /// Idempotent; every byte of the user's file is kept.
    public func addingDWC2(for targets: [Board]) -> ConfigTxt {
        let missing = targets.filter { !hostsDWC2($0) }
        guard !missing.isEmpty else { return self }
        var block: [String] = []
        if !endsUnfiltered { block.append("[all]") }
        block.append("# fpga-lab: dwc2 in host mode instead of dwc_otg, which crashes under USB/IP")
        for filter in ConfigTxt.filters(covering: missing, within: targets) {
            block += ["[\(filter)]", ConfigTxt.dwc2Line]
        }
        block.append("[all]")
        var out = bytes
        if !endsWithNewline { out += newline }
        if let last = lines.last, last.kind != .blank { out += newline }
        for line in block { out += Array(line.utf8) + newline }
        return ConfigTxt(bytes: out)
    }

    /// One sentence per line of the file that left some of `targets` with dwc2 outside host
    /// mode, naming `file:line`, the boards, their mode and where `edited` (this file after
    /// `addingDWC2(for: targets)`) sets host mode instead.
    public func dwc2ModeNotes(for targets: [Board], file: String, edited: ConfigTxt) -> [String] {
        var byLine: [(line: Int, mode: DWC2Mode, boards: [Board])] = []
        for board in targets {
            guard let mode = dwc2(seenBy: board), !mode.isHost else { continue }
            if let index = byLine.firstIndex(where: { $0.mode == mode }) {
                byLine[index].boards.append(board)
            } else {
                byLine.append((mode.line, mode, [board]))
            }
        }
        let added = "\(lines.count + 1)-\(edited.lines.count)"
        return byLine.sorted { $0.line < $1.line }.map { line, mode, boards in
            let text = String(decoding: Self.trimmed(lines[line].bytes[...]), as: UTF8.self)
            let names = boards.map(\.rawValue).joined(separator: ", ")
            let what = mode.conditional
                ? "may load dwc2 or change its dr_mode under a runtime filter on \(names)"
                : "leaves \(names) with dwc2 in \(mode.mode) mode" + (mode.mode == "otg" ? " (the overlay's default)" : "")
            return "\(file):\(line + 1): `\(text)` \(what), but fpga-lab needs host mode; "
                + "added `\(ConfigTxt.dwc2Line)` for them at lines \(added), which the firmware applies after it"
        }
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

extension StringProtocol {
    /// The string without the blanks of config.txt (space, tab, carriage return) around it.
    fileprivate func trimmingBlanks() -> String {
        String(decoding: ConfigTxt.trimmed(Array(utf8)[...]), as: UTF8.self)
    }
}

/// The kernel command line file of the boot partition: one line of parameters, edited as bytes
/// (any encoding) and split the way the kernel splits it.
public enum CmdlineTxt {
    public enum EditError: Error, Equatable, CustomStringConvertible {
        case multipleLines
        case unterminatedQuote

        public var description: String {
            switch self {
            case .multipleLines:
                "cmdline.txt holds more than one line; the firmware reads only one: join them first"
            case .unterminatedQuote:
                "cmdline.txt ends inside a double-quoted value, so a parameter added at the end would be part of that value: close the quote first"
            }
        }
    }

    /// One parameter of the command line, as byte offsets into the line.
    public struct Parameter: Equatable, Sendable {
        /// The whole parameter, quotes included.
        public var range: Range<Int>
        /// The name: before the first `=`, without a leading quote.
        public var name: Range<Int>
        /// The value after the first `=`, without the quotes around it; nil without `=`.
        public var value: Range<Int>?
    }

    /// The kernel's `isspace` (lib/ctype.c): tab, newline, vertical tab, form feed, carriage
    /// return, space, and 0xA0 (a no-break space in Latin-1).
    static func isSpace(_ byte: UInt8) -> Bool { (9...13).contains(byte) || byte == 32 || byte == 0xA0 }

    /// The parameters of `line` as the kernel's `next_arg` (lib/cmdline.c) splits them:
    /// whitespace separates, double quotes group (`dyndbg="file x.c +p; modules-load=x"` is one
    /// parameter), and a quote may open the parameter or its value after `=`; the quotes are
    /// not part of the name or value. `open` is true when the line ends inside a quote.
    public static func parameters(of line: [UInt8]) -> (parameters: [Parameter], open: Bool) {
        let quote = UInt8(ascii: "\""), equals = UInt8(ascii: "=")
        var out: [Parameter] = []
        var index = line.startIndex
        var inQuote = false
        while true {
            while index < line.endIndex, isSpace(line[index]) { index += 1 }
            guard index < line.endIndex else { break }
            let start = index
            inQuote = false
            if line[index] == quote {
                inQuote = true
                index += 1
            }
            let nameStart = index
            var equalsAt: Int?
            while index < line.endIndex, inQuote || !isSpace(line[index]) {
                if equalsAt == nil, line[index] == equals { equalsAt = index }
                if line[index] == quote { inQuote.toggle() }
                index += 1
            }
            // next_arg drops a closing quote when the parameter or its value opened with one.
            let quoted = line[start] == quote
            var value: Range<Int>?
            if let equalsAt {
                var from = equalsAt + 1, to = index
                if from < to, line[from] == quote {
                    from += 1
                    if to > from, line[to - 1] == quote { to -= 1 }
                } else if quoted, to > from, line[to - 1] == quote {
                    to -= 1
                }
                value = from..<to
            }
            var nameEnd = equalsAt ?? index
            if equalsAt == nil, quoted, nameEnd > nameStart, line[nameEnd - 1] == quote { nameEnd -= 1 }
            out.append(Parameter(range: start..<index, name: nameStart..<nameEnd, value: value))
        }
        return (out, inQuote)
    }

    /// `text` with `module` in its `modules-load=` list, added to an existing list (never a
    /// second `modules-load=`; systemd also reads `modules_load=`) or appended as a new
    /// parameter. Only parameters as the kernel splits the line count: `modules-load=` inside a
    /// quoted value is not one. Every other byte is kept (spacing, other parameters, the final
    /// line ending, bytes that are not UTF-8); nothing changes when the module is already listed.
    public static func addingModule(_ module: String, to text: [UInt8]) throws(EditError) -> [UInt8] {
        let (body, ending) = try splitLine(text)
        let (parameters, open) = parameters(of: body)
        // The values of the module lists, in order.
        let lists: [Range<Int>] = parameters.compactMap { parameter in
            let name = body[parameter.name].map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 }
            return name == Array("modules-load".utf8) ? parameter.value : nil
        }
        let wanted = Array(module.utf8)
        if lists.contains(where: { body[$0].split(separator: UInt8(ascii: ",")).contains { Array($0) == wanted } }) {
            return text
        }
        guard let value = lists.first else {
            if open { throw .unterminatedQuote }
            let end = parameters.last?.range.upperBound ?? 0
            let added = Array(((end == 0 ? "" : " ") + "modules-load=" + module).utf8)
            return Array(body[..<end]) + added + Array(body[end...]) + ending
        }
        let comma = value.isEmpty || body[value.upperBound - 1] == UInt8(ascii: ",") ? [] : [UInt8(ascii: ",")]
        return Array(body[..<value.upperBound]) + comma + wanted + Array(body[value.upperBound...]) + ending
    }

    /// The one line of `text` and its ending (LF, CRLF or none); more than one line is refused.
    static func splitLine(_ text: [UInt8]) throws(EditError) -> (body: [UInt8], ending: [UInt8]) {
        var line = text[...]
        var ending: [UInt8] = []
        if line.last == 10 {
            line = line.dropLast()
            ending = [10]
            if line.last == 13 {
                line = line.dropLast()
                ending = [13, 10]
            }
        }
        guard !line.contains(10) else { throw .multipleLines }
        return (Array(line), ending)
    }

    /// `addingModule` for UTF-8 text (tests and literals).
    public static func addingModule(_ module: String, to text: String) throws(EditError) -> String {
        String(decoding: try addingModule(module, to: Array(text.utf8)), as: UTF8.self)
    }
}

extension CmdlineTxt {
    /// `text` with `name=value`: the first parameter called `name` gets the new value (others of
    /// that name are left alone, the kernel hands all of them on), else it is appended. Every
    /// other byte is kept, as in `addingModule`.
    public static func settingParameter(_ name: String, to value: String, in text: [UInt8]) throws(EditError) -> [UInt8] {
        let (body, ending) = try splitLine(text)
        let (parameters, open) = parameters(of: body)
        let parameter = Array("\(name)=\(value)".utf8)
        if let existing = parameters.first(where: { body[$0.name] == Array(name.utf8)[...] }) {
            return Array(body[..<existing.range.lowerBound]) + parameter + Array(body[existing.range.upperBound...]) + ending
        }
        if open { throw .unterminatedQuote }
        let end = parameters.last?.range.upperBound ?? 0
        return Array(body[..<end]) + (end == 0 ? [] : [32]) + parameter + Array(body[end...]) + ending
    }
}
