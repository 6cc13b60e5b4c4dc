import BootFiles
import ArgumentParser
import Foundation
import Overlay

/// `fpga-lab`: the root command; one subcommand per verb, each in its own file.
public struct FPGALab: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fpga-lab",
        abstract: "Raspberry Pi USB/IP servers for FPGA boards: render, build and flash their images.",
        discussion: """
        fpga-lab turns a lab config (lab.yaml: which boards, which Pi, who may connect) into the \
        files a Raspberry Pi needs to export the boards over USB/IP.

        Exit status: 0 success, 1 failure or invalid input, 64 bad command line.
        """,
        version: FPGALabVersion.current,
        subcommands: [
            CheckCommand.self, RenderCommand.self, BuildImageCommand.self, InspectCommand.self,
            FlashCommand.self, ClientRecipeCommand.self, ListCommand.self, AttachCommand.self,
            DetachCommand.self, StatusCommand.self, WatchCommand.self,
        ]
    )

    public init() {}

    /// ArgumentParser's main, except that a `CLIError` a verb throws is printed the way every
    /// other failure is (`fpga-lab: error: MESSAGE`, exit 1) instead of as `Error: MESSAGE`.
    public static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CLIError {
            Console.error("fpga-lab: error: \(error)")
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
