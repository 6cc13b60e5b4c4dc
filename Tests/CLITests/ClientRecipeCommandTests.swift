import ArgumentParser
import Foundation
import Testing
@testable import FPGALabCLI

/// `fpga-lab client-recipe`: its command line, its errors and the directory it writes.
@Suite(.serialized) struct ClientRecipeCommandTests {
    static let labWithClient = """
    lab: fpga-lab-1
    server: {board: pi4, allow: [10.0.0.0/8]}
    devices:
      - {name: arty-a7-1, vendor: "0403", product: "6010", serial: "210319A4B3C1"}
    client: {server: fpga-pi-01.lab, ports: 241}

    """

    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("client-recipe-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// Runs the command with stderr captured (fd 2 pointed at a file meanwhile); a failure goes
    /// through the root command's error funnel, as in `FPGALab.main`.
    static func runCapturingStderr(_ arguments: [String], in directory: String) throws -> (error: Error?, stderr: String) {
        var command = try FPGALab.parseAsRoot(arguments)
        let capture = directory + "/stderr"
        _ = FileManager.default.createFile(atPath: capture, contents: nil)
        let saved = dup(2)
        let fd = open(capture, O_WRONLY)
        dup2(fd, 2)
        close(fd)
        var failure: Error?
        do { try command.run() } catch { failure = FPGALab.reported(error) }
        dup2(saved, 2)
        close(saved)
        return (failure, String(decoding: FileManager.default.contents(atPath: capture) ?? Data(), as: UTF8.self))
    }

    @Test func writesThePackageWithExecutableScripts() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try Data(Self.labWithClient.utf8).write(to: URL(fileURLWithPath: base + "/lab.yaml"))
        let (error, stderr) = try Self.runCapturingStderr(
            ["client-recipe", "--config", base + "/lab.yaml", "--output", base + "/client"], in: base)
        #expect(error == nil, "\(stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: base + "/client").sorted()
        #expect(files == ["99-fpga-lab-client.rules", "Kbuild", "Makefile", "README.txt", "dkms.conf",
                          "fpga_lab_version.c", "install.sh", "prepare.sh", "vhci-hcd.config"])
        let mode = try FileManager.default.attributesOfItem(atPath: base + "/client/install.sh")[.posixPermissions] as? Int
        #expect(mode == 0o755)
        let config = try String(contentsOfFile: base + "/client/vhci-hcd.config", encoding: .utf8)
        #expect(config.contains("CONFIG_USBIP_VHCI_NR_HCS=9\n"))
    }

    @Test func aConfigWithoutClientSectionIsAClearError() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let noClient = Self.labWithClient.replacingOccurrences(of: "client: {server: fpga-pi-01.lab, ports: 241}\n", with: "")
        try Data(noClient.utf8).write(to: URL(fileURLWithPath: base + "/lab.yaml"))
        let (error, stderr) = try Self.runCapturingStderr(
            ["client-recipe", "--config", base + "/lab.yaml", "--output", base + "/client"], in: base)
        #expect((error as? ExitCode) == .failure)
        #expect(stderr == "fpga-lab: error: \(base)/lab.yaml: no client: section; add one (client: {ports: N}) to say how many vhci ports the client needs\n")
        #expect(!FileManager.default.fileExists(atPath: base + "/client"))
    }

    @Test func aBadKernelSourceVersionIsRefusedOnTheCommandLine() {
        #expect {
            _ = try FPGALab.parseAsRoot(["client-recipe", "--config", "lab.yaml", "--output", "out", "--kernel-source-version", "six"])
        } throws: { error in
            FPGALab.message(for: error) == "--kernel-source-version six: give X.Y as in linux-source-6.1."
        }
    }

    @Test func outputIsRequired() {
        #expect {
            _ = try FPGALab.parseAsRoot(["client-recipe", "--config", "lab.yaml"])
        } throws: { error in
            FPGALab.message(for: error) == "Missing expected argument '--output <dir>'"
        }
    }

    @Test func usageLine() {
        #expect(FPGALab.usageString(for: ClientRecipeCommand.self).hasSuffix(
            "fpga-lab client-recipe --config <lab.yaml> --output <dir> [--kernel-source-version <X.Y>] [--templates <dir>]"))
    }
}
