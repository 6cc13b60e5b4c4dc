import Foundation
import Overlay
import Testing

/// Golden files, one directory per case: `ROOT/<case>/<path>`. A check compares the files of an
/// overlay (or a client-recipe package, or help texts) with its case, byte for byte and name for
/// name. With UPDATE_GOLDEN=1 in the environment it first rewrites the case from them: run that after a
/// deliberate change, then review the diff.
public struct GoldenDirectory: Sendable {
    public let root: URL

    public init(_ root: URL) { self.root = root }

    /// Expects the files of `overlay` (its entries with bytes) to be exactly the files of case `name`.
    public func check(_ overlay: Overlay, case name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let files = overlay.entries.compactMap { entry in entry.bytes.map { (path: entry.path, bytes: $0) } }
        try check(files: files, case: name, sourceLocation: sourceLocation)
    }

    /// Expects `files` (path, bytes) to be exactly the files of case `name` (help texts, ...).
    public func check(files: [(path: String, bytes: [UInt8])], case name: String,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let base = root.appendingPathComponent(name)
        let update = ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1"
        if update { try? FileManager.default.removeItem(at: base) }
        for file in files {
            let url = base.appendingPathComponent(file.path)
            if update {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.bytes).write(to: url)
            }
            let golden = try #require(FileManager.default.contents(atPath: url.path), "missing golden \(name)/\(file.path)",
                                      sourceLocation: sourceLocation)
            #expect(String(decoding: file.bytes, as: UTF8.self) == String(decoding: golden, as: UTF8.self), "\(name)/\(file.path)",
                    sourceLocation: sourceLocation)
        }
        let goldens = (FileManager.default.enumerator(atPath: base.path)?.allObjects as? [String] ?? [])
            .filter { !Self.isDirectory(base.appendingPathComponent($0)) }.sorted()
        #expect(files.map(\.path).sorted() == goldens, "\(name) holds exactly the golden files", sourceLocation: sourceLocation)
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }
}
