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

    /// ArgumentParser's main, with the CLI's one error funnel: verbs only throw, and what they
    /// throw is turned into the message and exit status here (see `exit(after:)`).
    public static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        // What parseAsRoot returns for `--help` or `help VERB` is ArgumentParser's own command,
        // which "fails" with the help text: only the verbs' errors are ours to print.
        let isVerb = configuration.subcommands.contains { $0 == type(of: command) }
        do {
            try command.run()
        } catch where isVerb {
            exit(withError: reported(error))
        } catch {
            exit(withError: error)
        }
    }

    /// The one place a verb's failure becomes what the user sees; returns what ArgumentParser
    /// ends the run with. `ExitCode` (the verb printed its own diagnostics, as `check` does),
    /// `CleanExit` and `ValidationError` (a usage error, status 64) are left to ArgumentParser as
    /// they always were; anything else is printed here as `fpga-lab: error: MESSAGE` (its
    /// description) and ends with status 1, instead of ArgumentParser's `Error: MESSAGE`.
    static func reported(_ error: any Error) -> any Error {
        switch error {
        case is ExitCode, is CleanExit, is ValidationError:
            return error
        default:
            Console.failure("\(error)")
            return ExitCode.failure
        }
    }
}
