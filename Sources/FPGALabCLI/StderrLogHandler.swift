import Foundation
import Logging

/// swift-log handler for the command line: `fpga-lab: warning: MESSAGE` on stderr, no
/// timestamps or metadata (a person reads these, and tests compare them).
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .warning ? "fpga-lab: \(event.level >= .error ? "error" : "warning"): " : "fpga-lab: "
        FileHandle.standardError.write(Data((prefix + event.message.description + "\n").utf8))
    }
}
