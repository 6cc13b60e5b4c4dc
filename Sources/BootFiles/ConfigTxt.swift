/// Raspberry Pi `config.txt`, parsed line by line so it can be evaluated the way the firmware
/// reads it and edited without touching the user's text.
///
/// config.txt is a program, not a list: a line applies under the filters in force above it.
///
///     dtparam=audio=on          <- every board
///     [cm5]                     <- model filter: replaces any earlier model filter
///     dtoverlay=dwc2,dr_mode=host   <- only a CM5 sees this
///     [gpio4=1]                 <- another kind of filter: stacks with [cm5]
///     [all]                     <- resets every filter
public struct ConfigTxt: Sendable {
    public enum LineKind: Equatable, Sendable {
        case blank
        case comment
        case filter(String)
        case setting(key: String, value: String)
    }

    public struct Line: Equatable, Sendable {
        /// The line's bytes as written, up to but not including its `\n` (a CRLF line keeps its
        /// `\r`). Any encoding: the bytes are never decoded to be written back.
        public var bytes: [UInt8]
        /// What the line says, read from its ASCII structure (`#`, `[...]`, `key=value`); keys,
        /// values and filter names are decoded as UTF-8 (with U+FFFD for other bytes) only to be
        /// compared, never to be written.
        public var kind: LineKind
    }

    /// Whether a board applies a line: always, only under a runtime condition (a GPIO, an
    /// EDID, tryboot...), or never.
    public enum Visibility: Equatable, Sendable { case always, conditional, never }

    public let lines: [Line]
    /// The line ending for lines fpga-lab adds: `"\r\n"` when the file uses CRLF anywhere,
    /// else `"\n"`. The user's lines keep their own endings.
    public let newline: [UInt8]
    public let endsWithNewline: Bool

    /// Parses the file's bytes, whatever their encoding: lines are split on `\n` (0x0A) and
    /// every byte is kept, so `bytes` gives the input back unchanged.
    public init(bytes: [UInt8]) {
        newline = zip(bytes, bytes.dropFirst()).contains { $0 == 13 && $1 == 10 } ? [13, 10] : [10]
        endsWithNewline = bytes.last.map { $0 == 10 } ?? true
        var pieces = bytes.split(separator: 10, omittingEmptySubsequences: false)
        if endsWithNewline { pieces.removeLast() }
        lines = pieces.map { Line(bytes: Array($0), kind: ConfigTxt.classify($0)) }
    }

    /// Parses UTF-8 text (a convenience for tests and literals; files are read as bytes).
    public init(text: String) { self.init(bytes: Array(text.utf8)) }

    /// Blanks around keys, values and filters: spaces, tabs, and a carriage return (the `\r`
    /// of a CRLF ending, or a stray one as a CRLF editor leaves before a lone `\n`), so that
    /// adding a line ending never changes what a line says.
    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isBlank($0) }),
              let last = bytes.lastIndex(where: { !isBlank($0) }) else { return [] }
        return bytes[first...last]
    }

    static func classify(_ bytes: ArraySlice<UInt8>) -> LineKind {
        func string(_ part: ArraySlice<UInt8>) -> String { String(decoding: trimmed(part), as: UTF8.self) }
        let line = trimmed(bytes)
        guard let first = line.first else { return .blank }
        if first == UInt8(ascii: "#") { return .comment }
        if first == UInt8(ascii: "["), let close = line.firstIndex(of: UInt8(ascii: "]")) {
            return .filter(string(line[(line.startIndex + 1)..<close]).lowercased())
        }
        guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { return .setting(key: string(line), value: "") }
        return .setting(key: string(line[..<equals]), value: string(line[(equals + 1)...]))
    }

    /// `classify` for a line given as text (tests).
    static func classify(_ text: String) -> LineKind { classify(Array(text.utf8)[...]) }

    /// The visibility of every line for `board`, in file order.
    public func visibility(for board: Board) -> [Visibility] {
        var state = FilterState()
        return lines.map { line in
            if case .filter(let name) = line.kind {
                state.apply(name)
                return .always
            }
            return state.visibility(for: board)
        }
    }

    /// The settings `board` applies unconditionally, in order.
    public func settings(seenBy board: Board) -> [(key: String, value: String)] {
        zip(lines, visibility(for: board)).compactMap { line, seen in
            guard seen == .always, case .setting(let key, let value) = line.kind else { return nil }
            return (key, value)
        }
    }

    /// The state of the filters after the last line: true when nothing is in force.
    var endsUnfiltered: Bool {
        var state = FilterState()
        for case .filter(let name) in lines.map(\.kind) { state.apply(name) }
        return state.isClean
    }

    /// The file again: byte for byte what was parsed, plus what an edit appended.
    public var bytes: [UInt8] {
        var out = Array(lines.map(\.bytes).joined(separator: [10]))
        if endsWithNewline, !lines.isEmpty { out.append(10) }
        return out
    }
}

/// The filters in force at a point of config.txt.
struct FilterState {
    var model: String?
    var others: [String: String] = [:]
    var none = false

    var isClean: Bool { model == nil && others.isEmpty && !none }

    mutating func apply(_ name: String) {
        switch name {
        case "all":
            self = FilterState()
        case "none":
            none = true
        default:
            let kind = FilterState.kind(of: name)
            if kind == "model" { model = name } else { others[kind] = name }
        }
    }

    func visibility(for board: Board) -> ConfigTxt.Visibility {
        if none { return .never }
        if let model, !board.matchesModelFilter(model) { return .never }
        return others.isEmpty ? .always : .conditional
    }

    /// Filters of the same kind replace each other; different kinds stack.
    static func kind(of name: String) -> String {
        let head = name.split(separator: "=", maxSplits: 1).first.map(String.init) ?? name
        if Board.modelFilterNames.contains(head) { return "model" }
        if head.hasPrefix("0x") { return "serial" }
        if head.hasPrefix("hdmi:") { return "hdmi" }
        return head
    }
}
