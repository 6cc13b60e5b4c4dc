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
    mutating func mapping(_ node: Node, _ field: String, keys allowed: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            report(node, field, "expected a mapping (key: value lines), found \(describe(node))")
            return nil
        }
        var entries: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                report(keyNode, field, "keys must be plain names")
                continue
            }
            let path = field.isEmpty ? key.string : "\(field).\(key.string)"
            if !allowed.contains(key.string) {
                var message = "unknown key \"\(key.string)\""
                if let guess = closest(key.string, in: allowed) { message += "; did you mean \"\(guess)\"?" }
                report(keyNode, path, message)
            } else if entries[key.string] != nil {
                report(keyNode, path, "key given twice")
            } else {
                entries[key.string] = value
            }
        }
        return entries
    }

    mutating func required(_ entries: [String: Node], _ key: String, in parent: Node, _ field: String) -> Node? {
        if let node = entries[key] { return node }
        report(parent, field.isEmpty ? key : "\(field).\(key)", "required field is missing")
        return nil
    }

    /// A scalar's text. YAML numbers and booleans are accepted as their text, except where the
    /// caller insists on a quoted string.
    mutating func string(_ node: Node, _ field: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected a single value, found \(describe(node))")
            return nil
        }
        if node.isTagged(.null) {
            report(node, field, "is empty")
            return nil
        }
        return scalar.string
    }

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
        case .scalar(let scalar): "the value \"\(scalar.string)\""
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
