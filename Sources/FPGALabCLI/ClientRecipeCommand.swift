import ArgumentParser
import ClientRecipe
import Foundation
import LabConfig
import Overlay

/// `fpga-lab client-recipe`: the DKMS vhci-hcd package, install script, udev rule and kernel
/// config fragment a client needs for the lab's `client.ports`.
struct ClientRecipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-recipe",
        abstract: "Write the client's DKMS vhci-hcd package, install script and udev rule.",
        discussion: """
        The directory holds a DKMS package for a vhci-hcd with enough ports for client.ports \
        (15 ports x N controllers, high-speed and super-speed counted apart), install.sh (which \
        builds nothing when the kernel already has enough), the udev rule naming each board's \
        tty /dev/fpga/<name>, and vhci-hcd.config for people who build their own kernel. The \
        directory is replaced atomically.
        """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("The directory to write (replaced atomically; missing parent directories are created).", valueName: "dir"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Take the vhci sources from linux-source-X.Y (default: X.Y of the kernel being built for).", valueName: "X.Y"))
    var kernelSourceVersion: String?

    @OptionGroup var templates: TemplateOptions

    func validate() throws {
        if let kernelSourceVersion, kernelSourceVersion.wholeMatch(of: /[0-9]+\.[0-9]+(\.[0-9]+)?/) == nil {
            throw ValidationError("--kernel-source-version \(kernelSourceVersion): give X.Y as in linux-source-6.1.")
        }
    }

    func run() throws {
        let file = try options.load()
        guard let client = file.lab.client else {
            throw CLIError("\(options.config): no client: section; add one (client: {ports: N}) to say how many vhci ports the client needs")
        }
        let epoch = try sourceDateEpoch()
        let recipe = ClientRecipe(store: try templates.store())
        let overlay = try recipe.render(file.lab, kernelSourceVersion: kernelSourceVersion)
        try overlay.writeDirectory(to: output, mtime: epoch, marker: "dkms.conf",
                                   inputs: [options.config, templates.templates].compactMap { $0 })
        let ports = try VHCIPorts.covering(client.ports)
        Console.output("\(output): \(ClientRecipe.packageName) \(ClientRecipe.packageVersion(ports)), \(ports.total) vhci ports for client.ports \(client.ports)")
    }
}
