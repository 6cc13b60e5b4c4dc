import Yams

/// Walks a composed YAML tree, collecting every problem as a `Diagnostic` instead of stopping at
/// the first, so `fpga-lab check` can report them all at once.
struct YAMLReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    mutating func report(_ node: Node?, _ field: String, _ message: String,
                         severity: Diagnostic.Severity = .error) {
        let mark = node?.mark
        diagnostics.append(Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                                      field: field, message: message, severity: severity))
    }

    /// The entries of a mapping by key, after rejecting unknown and repeated keys.
    ///
    /// YAML merge keys are expanded (`<<: *anchor`, or `<<: [*a, *b]`): the mapping's own keys
    /// win over merged ones, and an earlier merged mapping wins over a later one, as the YAML
    /// merge-key spec says. A merged key that is not allowed is reported where it is written.
    mutating func mapping(_ node: Node, _ field: String, keys allowed: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            report(node, field, "expected a mapping (key: value lines), found \(describe(node))")
            return nil
        }
        var entries: [String: Node] = [:]
        for pair in pairs(of: mapping, field) {
            guard case .scalar(let key) = pair.key else {
                report(pair.key, field, "keys must be plain names")
                continue
            }
            let path = field.isEmpty ? shortened(key.string) : "\(field).\(shortened(key.string))"
            if !allowed.contains(key.string) {
                if field.isEmpty, key.string.hasPrefix(Self.extensionPrefix) { continue }
                var message = "unknown key \(quoted(key.string))"
                if let guess = closest(key.string, in: allowed) { message += "; did you mean \"\(guess)\"?" }
                report(pair.key, path, message)
            } else if entries[key.string] != nil {
                if !pair.merged { report(pair.key, path, "key given twice") }
            } else {
                entries[key.string] = pair.value
            }
        }
        return entries
    }

    /// Top-level keys starting with this are ignored: a place for anchors to merge from
    /// (`x-ftdi: &ftdi {vendor: "0403", product: "6010"}`), as in Compose files.
    static let extensionPrefix = "x-"

    /// A mapping's pairs with merge keys expanded: its own pairs first, then the pairs of each
    /// merged mapping in order (`merged` set), so the first occurrence of a key is the one that
    /// counts.
    private mutating func pairs(of mapping: Node.Mapping, _ field: String) -> [(key: Node, value: Node, merged: Bool)] {
        var own: [(key: Node, value: Node, merged: Bool)] = []
        var merged: [(key: Node, value: Node, merged: Bool)] = []
        for (key, value) in mapping {
            guard key.isTagged(.merge) else {
                own.append((key, value, false))
                continue
            }
            let sources: [Node]
            switch value {
            case .mapping: sources = [value]
            case .sequence(let sequence): sources = Array(sequence)
            default: sources = [value]
            }
            for source in sources {
                guard case .mapping(let inner) = source else {
                    report(source, field.isEmpty ? "<<" : "\(field).<<",
                           "a merge key (<<) takes a mapping or a list of mappings (*anchor), found \(describe(source))")
                    continue
                }
                merged += pairs(of: inner, field).map { ($0.key, $0.value, true) }
            }
        }
        return own + merged
    }

    mutating func required(_ entries: [String: Node], _ key: String, in parent: Node, _ field: String) -> Node? {
        if let node = entries[key] { return node }
        report(parent, field.isEmpty ? key : "\(field).\(key)", "required field is missing")
        return nil
    }

    /// A scalar's text, at most `limit` bytes long. YAML numbers and booleans are accepted as
    /// their text, except where the caller insists on a quoted string.
    mutating func string(_ node: Node, _ field: String, limit: FieldLimit) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected a single value, found \(describe(node))")
            return nil
        }
        if node.isTagged(.null) {
            report(node, field, "is empty")
            return nil
        }
        let length = scalar.string.utf8.count
        guard length <= limit.bytes else {
            report(node, field, "is \(length) bytes long, over the limit of \(limit.bytes): \(limit.reason)")
            return nil
        }
        return scalar.string
    }

    /// `text` quoted for a message, cut short when long (a key or a value of the wrong type
    /// can be any length).
    func quoted(_ text: String) -> String {
        text.count > Self.shown ? "\"\(shortened(text))\" (\(text.utf8.count) bytes)" : "\"\(text)\""
    }

    /// `text`, or its first characters and "..." when long; for keys in field paths.
    func shortened(_ text: String) -> String {
        text.count > Self.shown ? text.prefix(Self.shown) + "..." : text
    }

    /// How much of a long key or value a message shows.
    static let shown = 40

    mutating func int(_ node: Node, _ field: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected a number, found \(describe(node))")
            return nil
        }
        guard node.isTagged(.int), let value = Int(scalar.string) else {
            report(node, field, "\"\(scalar.string)\" is not a whole number")
            return nil
        }
        guard range.contains(value) else {
            report(node, field, "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func sequence(_ node: Node, _ field: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(node, field, "expected a list, found \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "the value \(quoted(scalar.string))"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}

extension Node {
    /// True when YAML resolves this node to `name` (a plain `0403` is an int, `~` a null).
    func isTagged(_ name: Tag.Name) -> Bool { tag.rawValue == name.rawValue }
}
