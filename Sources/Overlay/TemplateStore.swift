import Foundation
import Mustache

/// The data files fpga-lab renders from: `templates/`, `overlays/` and `kernel-configs/`,
/// embedded into the binary at build time; `--templates DIR` replaces the templates with a
/// user's own copies.
public struct TemplateStore: Sendable {
    /// Every data file by its path in the source tree (`templates/udev/90-fpga-lab.rules.mustache`).
    public let files: [String: String]

    /// The embedded files, with the templates found under `templatesDirectory` (if given)
    /// taking the place of the embedded ones of the same name.
    public init(templatesDirectory: String? = nil) throws {
        var files = EmbeddedFiles.all
        if let directory = templatesDirectory {
            let base = URL(fileURLWithPath: directory)
            guard let walker = FileManager.default.enumerator(atPath: directory) else {
                throw RenderError.templatesUnreadable(directory)
            }
            for case let relative as String in walker where relative.hasSuffix(".mustache") {
                let url = base.appendingPathComponent(relative)
                guard let data = FileManager.default.contents(atPath: url.path),
                      let text = String(data: data, encoding: .utf8) else {
                    throw RenderError.templatesUnreadable(url.path)
                }
                files["templates/\(relative)"] = text
            }
        }
        self.files = files
    }

    /// Renders `templates/<name>.mustache` with `context`, as plain text (no HTML escaping).
    public func render(_ name: String, _ context: [String: Any]) throws -> String {
        let key = "templates/\(name).mustache"
        guard let source = files[key] else { throw RenderError.missingTemplate(key) }
        do {
            return try MustacheTemplate(string: source).render(context)
        } catch {
            throw RenderError.badTemplate(key, "\(error)")
        }
    }

    /// The static files under `overlays/`, by their path on the Pi (`etc/fpga-lab/README`).
    public var staticFiles: [(path: String, text: String)] {
        files.filter { $0.key.hasPrefix("overlays/") }
            .map { (String($0.key.dropFirst("overlays/".count)), $0.value) }
            .sorted { $0.path < $1.path }
    }
}

public enum RenderError: Error, Equatable, CustomStringConvertible {
    case templatesUnreadable(String)
    case missingTemplate(String)
    case badTemplate(String, String)
    case bootFile(String, String)

    public var description: String {
        switch self {
        case .templatesUnreadable(let path): "\(path): cannot read templates"
        case .missingTemplate(let name): "template \(name) not found"
        case .badTemplate(let name, let problem): "template \(name): \(problem)"
        case .bootFile(let path, let problem): "\(path): \(problem)"
        }
    }
}
