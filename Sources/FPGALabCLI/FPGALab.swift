import ArgumentParser
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
}
