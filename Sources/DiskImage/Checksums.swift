import Crypto
import Foundation

/// sha256 of outputs and the `SHA256SUMS` file beside them (coreutils format:
/// `<64 hex>  <file name>`, one line per file, sorted by name).
public enum Checksums {
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ChecksumError.unreadable(path) }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Writes to `destination` the lines of `existing` (if any) for other files, plus one line
    /// per output (by base name).
    public static func writeSums(_ outputs: [(path: String, sha256: String)], merging existing: String,
                                 to destination: String) throws {
        var lines: [String: String] = [:]
        if let data = FileManager.default.contents(atPath: existing) {
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))
                lines[name] = String(line)
            }
        }
        for (path, sum) in outputs {
            let name = URL(fileURLWithPath: path).lastPathComponent
            lines[name] = "\(sum)  \(name)"
        }
        let text = lines.keys.sorted().map { lines[$0]! }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: destination))
    }
}

public enum ChecksumError: Error, CustomStringConvertible {
    case unreadable(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path): cannot read to checksum"
        }
    }
}
