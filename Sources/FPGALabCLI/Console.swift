import Foundation
import Logging

/// A failure with a message for the user; printed as `fpga-lab: error: MESSAGE`.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Results go to stdout, everything else to stderr.
enum Console {
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `fpga-lab: error: MESSAGE`: how every failure reads, whether it ends the run (the root
    /// command's funnel, `FPGALab.main`) or only one board of several (attach, detach).
    static func failure(_ message: String) { error("fpga-lab: error: \(message)") }

    /// Warnings go through swift-log, so a library can report them the same way.
    static let logger = Logger(label: "fpga-lab") { _ in StderrLogHandler() }

    static func warning(_ line: String) { logger.warning("\(line)") }

    static func output(_ line: String) { print(line) }
}

/// Sizes in the text results of build-image and inspect: whole MiB.
func wholeMiB(_ bytes: UInt64) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }

/// `SOURCE_DATE_EPOCH` as reproducible builds define it, or 0.
func sourceDateEpoch() throws -> Int64 {
    guard let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return 0 }
    guard let value = Int64(text), value >= 0 else {
        throw CLIError("SOURCE_DATE_EPOCH=\(text) is not a non-negative number of seconds")
    }
    return value
}

/// Reads a whole file given on the command line as bytes (any encoding), with a clear error.
func readBytes(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError("\(path): cannot read the \(what)")
    }
    return Array(data)
}
