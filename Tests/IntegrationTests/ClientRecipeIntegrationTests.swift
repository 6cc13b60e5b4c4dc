import ClientRecipe
import Foundation
import LabConfig
import Overlay
import Testing
import TestSupport

/// The client recipe against the real tools: shellcheck, DKMS, the Debian 12 kernel headers
/// (linux-headers-amd64), linux-source-6.1, modinfo, objdump, and Debian's kernel
/// (linux-image-amd64) booted in qemu to load the module. One module build per run.
@Suite(.serialized) struct ClientRecipeIntegrationTests {
    @Test func everyGeneratedScriptIsShellcheckClean() throws {
        let package = try ScratchPackage(ports: 300)
        defer { package.remove() }
        let scripts = try FileManager.default.contentsOfDirectory(atPath: package.directory)
            .filter { $0.hasSuffix(".sh") }.sorted()
        #expect(scripts == ["install.sh", "prepare.sh"])
        let result = try ProcessRunner.run("shellcheck", ["--shell=bash", "--severity=style"] + scripts.map { package.directory + "/" + $0 }, timeout: 600)
        #expect(result.status == 0, "shellcheck:\n\(result.stdout)\(result.stderr)")
    }

    @Test func buildOnlyBuildsAVHCIWith300PortsForDebiansKernel() throws {
        let kernel = try debianHeadersKernel()
        let package = try ScratchPackage(ports: 300)
        defer { package.remove() }
        let result = try ProcessRunner.run(package.directory + "/install.sh",
                             ["--build-only", "--kernel", kernel, "--work-dir", package.base + "/work"], timeout: 600)
        try #require(result.status == 0, "install.sh --build-only failed:\n\(result.stderr)")
        #expect(result.stderr.contains("has vhci-hcd with 15 ports x 8 controllers = 240 ports"))
        #expect(result.stderr.contains("vhci.h set to 15 ports x 10 controllers (300 ports)"))

        let module = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(module.hasSuffix("/\(kernel)/x86_64/module/vhci-hcd.ko"))
        #expect(module.hasPrefix(package.base + "/work/"), "the build stays inside --work-dir")
        #expect(try modinfo("vermagic", module).hasPrefix("\(kernel) SMP "))
        #expect(try modinfo("name", module) == "vhci_hcd")
        #expect(try modinfo("version", module) == "15x10")
        #expect(try modinfo("depends", module).split(separator: ",").contains("usbip-core"))
        // `int vhci_num_controllers = VHCI_NR_HCS;` in vhci_hcd.c: the module's initial value is
        // the controller count prepare.sh put into vhci.h (Debian's own module has 8).
        #expect(try initialInt32(symbol: "vhci_num_controllers", in: module) == 10)

        // Debian's kernel itself loads it: booted in qemu with its own usb-common, usbcore and
        // usbip-core, the new vhci-hcd makes 10 controllers and reports 300 ports.
        let report = try ClientRecipeVM.load(module, kernel: kernel, scratch: package.base)
        #expect(report.loaded == ["1-usb-common.ko", "2-usbcore.ko", "3-usbip-core.ko", "4-vhci-hcd.ko"], "\(report.console)")
        #expect(report.nports == 300, "\(report.console)")
        #expect(report.controllers == 10, "\(report.console)")
    }

    @Test func aKernelWithEnoughPortsNeedsNothing() throws {
        let package = try ScratchPackage(ports: 16)
        defer { package.remove() }
        let config = try package.write("config-debian", kernelConfig(hcPorts: 15, controllers: 8))
        let result = try ProcessRunner.run(package.directory + "/install.sh",
                             ["--kernel", "6.1.0-99-amd64", "--config-file", config, "--no-udev"], timeout: 600)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("nothing to build: kernel 6.1.0-99-amd64 already has 240 vhci ports, the lab needs 16"))
        #expect(result.stdout.isEmpty)
    }

    @Test func theLiveNportsOfTheRunningKernelWinsOverItsConfig() throws {
        let package = try ScratchPackage(ports: 300)
        defer { package.remove() }
        let config = try package.write("config-wsl2", kernelConfig(hcPorts: 8, controllers: 1))
        let nports = try package.write("sys/devices/platform/vhci_hcd.0/nports", "480\n")
        let sysfs = String(nports.dropLast("/devices/platform/vhci_hcd.0/nports".count))
        let running = try ProcessRunner.run("uname", ["-r"], timeout: 600).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try ProcessRunner.run(package.directory + "/install.sh",
                             ["--kernel", running, "--config-file", config, "--sysfs-root", sysfs, "--no-udev"], timeout: 600)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("has vhci-hcd with 8 ports x 1 controllers = 16 ports"))
        #expect(result.stderr.contains("the loaded vhci-hcd has 480 ports"))
        #expect(result.stderr.contains("nothing to build"))
    }

    @Test func tooFewPortsAndNoHeadersIsAClearError() throws {
        let package = try ScratchPackage(ports: 300)
        defer { package.remove() }
        let config = try package.write("config-wsl2", kernelConfig(hcPorts: 8, controllers: 1))
        let result = try ProcessRunner.run(package.directory + "/install.sh",
                             ["--build-only", "--kernel", "5.15.0-fpga-lab-none", "--config-file", config], timeout: 600)
        #expect(result.status == 1)
        #expect(result.stderr.contains("install.sh: error: no headers for kernel 5.15.0-fpga-lab-none"))
    }

    @Test func aBuiltInVHCICannotBeReplaced() throws {
        let package = try ScratchPackage(ports: 300)
        defer { package.remove() }
        let config = try package.write("config-builtin", "CONFIG_USBIP_CORE=y\nCONFIG_USBIP_VHCI_HCD=y\n")
        let result = try ProcessRunner.run(package.directory + "/install.sh",
                             ["--build-only", "--kernel", "6.1.0-99-amd64", "--config-file", config], timeout: 600)
        #expect(result.status == 1)
        #expect(result.stderr.contains("has vhci-hcd built in (CONFIG_USBIP_VHCI_HCD=y), which a module cannot replace"))
    }
}

/// A rendered client package in a fresh temporary directory.
private struct ScratchPackage {
    let base: String
    var directory: String { base + "/package" }

    init(ports: Int) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("client-recipe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        let lab = Lab(name: "fpga-lab-it", server: Server(board: .pi4),
                      devices: [Device(name: "arty-a7-1", id: USBID(vendor: "0403", product: "6010")!, serial: "210319A4B3C1")],
                      client: Client(server: "fpga-pi-01.lab", ports: ports))
        try ClientRecipe(store: TemplateStore()).render(lab).writeDirectory(to: directory, mtime: 0, marker: "dkms.conf")
    }

    /// Writes `text` to `relative` under the scratch directory and returns its path.
    func write(_ relative: String, _ text: String) throws -> String {
        let url = URL(fileURLWithPath: base).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func remove() { try? FileManager.default.removeItem(atPath: base) }
}

/// The kernel release of the installed Debian headers (linux-headers-amd64 pulls in
/// /usr/src/linux-headers-6.1.0-N-amd64 and /lib/modules/6.1.0-N-amd64/build).
private func debianHeadersKernel() throws -> String {
    let releases = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/src")) ?? []
    let kernels = releases.filter { $0.hasPrefix("linux-headers-") && $0.hasSuffix("-amd64") }
        .map { String($0.dropFirst("linux-headers-".count)) }
        .filter { FileManager.default.fileExists(atPath: "/lib/modules/\($0)/build/Makefile") }
        .sorted()
    return try #require(kernels.last, "no Debian kernel headers: apt-get install linux-headers-amd64")
}

private func kernelConfig(hcPorts: Int, controllers: Int) -> String {
    """
    CONFIG_USB=m
    CONFIG_USBIP_CORE=m
    CONFIG_USBIP_VHCI_HCD=m
    CONFIG_USBIP_VHCI_HC_PORTS=\(hcPorts)
    CONFIG_USBIP_VHCI_NR_HCS=\(controllers)
    CONFIG_USBIP_HOST=m

    """
}

private func modinfo(_ field: String, _ module: String) throws -> String {
    let result = try ProcessRunner.run("modinfo", ["-F", field, module], timeout: 600)
    try #require(result.status == 0, "modinfo: \(result.stderr)")
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The initial value of a 4-byte little-endian global in a relocatable object: its section and
/// offset from the symbol table (`objdump -t`), its bytes from that section (`objdump -s`).
private func initialInt32(symbol: String, in object: String) throws -> Int32 {
    let table = try ProcessRunner.run("objdump", ["-t", object], timeout: 600)
    try #require(table.status == 0, "objdump -t: \(table.stderr)")
    // 0000000000000170 g     O .data	0000000000000004 vhci_num_controllers
    let line = try #require(table.stdout.split(separator: "\n").first { $0.hasSuffix(" " + symbol) }, "\(symbol) not in \(object)")
    let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    let offset = try #require(UInt64(fields[0], radix: 16))
    let section = try #require(fields.first { $0.hasPrefix(".") }).description
    let dump = try ProcessRunner.run("objdump", ["-s", "-j", section, "--start-address=0x\(String(offset, radix: 16))",
                                   "--stop-address=0x\(String(offset + 4, radix: 16))", object], timeout: 600)
    try #require(dump.status == 0, "objdump -s: \(dump.stderr)")
    //  0170 0a000000                             ....
    let row = try #require(dump.stdout.split(separator: "\n").last).split(separator: " ")
    let hex = try #require(row.count >= 2 ? row[1] : nil)
    let bytes = stride(from: 0, to: 8, by: 2).compactMap { index -> UInt8? in
        let start = hex.index(hex.startIndex, offsetBy: index)
        return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)
    }
    try #require(bytes.count == 4)
    return Int32(bitPattern: UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
}
