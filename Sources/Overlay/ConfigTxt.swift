import Foundation
import LabConfig

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
        /// The line as written, without its terminator.
        public var text: String
        public var kind: LineKind
    }

    /// Whether a board applies a line: always, only under a runtime condition (a GPIO, an
    /// EDID, tryboot...), or never.
    public enum Visibility: Equatable, Sendable { case always, conditional, never }

    public let lines: [Line]
    /// `"\r\n"` when the file uses CRLF line endings, else `"\n"`.
    public let newline: String
    public let endsWithNewline: Bool

    public init(text: String) {
        let scalars = text.unicodeScalars
        newline = text.utf8.contains(13) && text.contains("\r\n") ? "\r\n" : "\n"
        endsWithNewline = scalars.isEmpty || scalars.last == "\n"
        var pieces = scalars.split(separator: "\n", omittingEmptySubsequences: false)
        if endsWithNewline { pieces.removeLast() }
        lines = pieces.map { piece in
            let body = piece.last == "\r" ? piece.dropLast() : piece[...]
            let text = String(String.UnicodeScalarView(body))
            return Line(text: text, kind: ConfigTxt.classify(text))
        }
    }

    /// Blanks around keys, values and filters: spaces, tabs, and a carriage return that is not
    /// part of the line ending (a stray `\r`, as a CRLF editor leaves before a lone `\n`), so
    /// that adding a line ending never changes what a line says.
    static let blanks = CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\r"))

    static func classify(_ text: String) -> LineKind {
        let trimmed = text.trimmingCharacters(in: blanks)
        if trimmed.isEmpty { return .blank }
        if trimmed.hasPrefix("#") { return .comment }
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            return .filter(name.trimmingCharacters(in: blanks).lowercased())
        }
        guard let equals = trimmed.firstIndex(of: "=") else { return .setting(key: trimmed, value: "") }
        return .setting(key: String(trimmed[..<equals]).trimmingCharacters(in: blanks),
                        value: String(trimmed[trimmed.index(after: equals)...]).trimmingCharacters(in: blanks))
    }

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

    /// The text again, byte for byte when nothing was changed.
    public var text: String {
        var out = lines.map(\.text).joined(separator: newline)
        if endsWithNewline, !lines.isEmpty { out += newline }
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
