/// One finding about a lab config, anchored at the place in the file it concerns.
///
/// Rendered as `lab.yaml:12:13: devices[2].vendor: "40x3" is not 4 hex digits`
/// (errors) or `lab.yaml:3:9: warning: client.ports: ...` (warnings).
public struct Diagnostic: Equatable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var line: Int
    public var column: Int
    /// The field path, e.g. `devices[2].vendor`; empty for file-level problems.
    public var field: String
    public var message: String
    public var severity: Severity

    public init(file: String, line: Int, column: Int, field: String, message: String,
                severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
        self.severity = severity
    }

    public var description: String {
        let place = "\(file):\(line):\(column): "
        let kind = severity == .warning ? "warning: " : ""
        let subject = field.isEmpty ? "" : "\(field): "
        return place + kind + subject + message
    }
}

/// Thrown when a lab config has at least one error; carries every finding at once.
public struct LabConfigError: Error, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
