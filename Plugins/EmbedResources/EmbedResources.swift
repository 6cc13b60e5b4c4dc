import Foundation
import PackagePlugin

/// Embeds `templates/`, `overlays/` and `kernel-configs/` into the target that uses this plugin,
/// so the installed `fpga-lab` binary carries its own data wherever it runs.
@main
struct EmbedResources: BuildToolPlugin {
    static let directories = ["templates", "overlays", "kernel-configs"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        var inputs: [URL] = []
        for name in Self.directories {
            let dir = root.appending(path: name)
            guard let walker = FileManager.default.enumerator(
                at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { continue }
            for case let url as URL in walker
            where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                inputs.append(url)
            }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) data files",
                executable: try context.tool(named: "EmbedGen").url,
                arguments: [output.path, root.path] + Self.directories,
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
