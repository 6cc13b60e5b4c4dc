import Foundation
import LabConfig
import Overlay
import Testing
import TestSupport
@testable import ClientRecipe

/// Golden files live in Tests/ClientRecipeTests/Golden/<case>/<file>; run the tests with
/// UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then review the diff.
let golden = GoldenDirectory(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"))

enum Labs {
    static func lab(ports: Int?) -> Lab {
        Lab(
            name: "fpga-lab-1",
            server: Server(board: .pi4, hostname: "fpga-pi-01"),
            devices: [
                Device(name: "arty-a7-1", id: USBID(vendor: "0403", product: "6010")!, serial: "210319A4B3C1"),
                Device(name: "de10-nano-1", id: USBID(vendor: "09fb", product: "6010")!, port: "1-1.3",
                       also: [USBID(vendor: "09fb", product: "6810")!]),
            ],
            client: ports.map { Client(server: "fpga-pi-01.lab", ports: $0) })
    }

    static func render(ports: Int?, kernelSourceVersion: String? = nil) throws -> Overlay {
        try ClientRecipe(store: TemplateStore()).render(lab(ports: ports), kernelSourceVersion: kernelSourceVersion)
    }
}

@Suite struct ClientRecipeTests {
    @Test func packageFor300PortsMatchesGolden() throws {
        try golden.check(try Labs.render(ports: 300), case: "ports300")
    }

    @Test func packagePinnedToLinuxSource61MatchesGolden() throws {
        try golden.check(try Labs.render(ports: 16, kernelSourceVersion: "6.1"), case: "ports16-linux-6.1")
    }

    @Test func scriptsAreExecutableAndTheRestIsNot() throws {
        let overlay = try Labs.render(ports: 300)
        let modes = Dictionary(uniqueKeysWithValues: overlay.entries.map { ($0.path, $0.mode) })
        #expect(modes == [
            "99-fpga-lab-client.rules": 0o644, "Kbuild": 0o644, "Makefile": 0o644, "README.txt": 0o644,
            "dkms.conf": 0o644, "fpga_lab_version.c": 0o644, "install.sh": 0o755, "prepare.sh": 0o755, "vhci-hcd.config": 0o644,
        ])
    }

    @Test func dkmsConfNamesThePackageAndTheModule() throws {
        let text = String(decoding: try #require(try Labs.render(ports: 241)["dkms.conf"]?.bytes), as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            #"PACKAGE_NAME="fpga-lab-vhci-hcd""#, #"PACKAGE_VERSION="15x9""#, #"BUILT_MODULE_NAME[0]="vhci-hcd""#,
            #"DEST_MODULE_LOCATION[0]="/updates""#, #"AUTOINSTALL="yes""#, #"PRE_BUILD="prepare.sh ${kernelver}""#,
        ] {
            #expect(lines.contains(expected), "dkms.conf lacks \(expected)")
        }
    }

    @Test func portCountsReachPrepareInstallAndTheKernelFragment() throws {
        let overlay = try Labs.render(ports: 241)
        func text(_ path: String) throws -> String { String(decoding: try #require(overlay[path]?.bytes), as: UTF8.self) }
        #expect(try text("prepare.sh").contains("readonly HC_PORTS=15\nreadonly NR_HCS=9\n"))
        #expect(try text("install.sh").contains("readonly NEEDED_PORTS=241\nreadonly BUILT_PORTS=270\n"))
        #expect(try text("vhci-hcd.config").hasSuffix("""
            CONFIG_USBIP_CORE=m
            CONFIG_USBIP_VHCI_HCD=m
            CONFIG_USBIP_VHCI_HC_PORTS=15
            CONFIG_USBIP_VHCI_NR_HCS=9

            """))
    }

    @Test func aLabWithoutClientSectionIsRefused() {
        #expect(throws: ClientRecipeError.noClientSection) { try Labs.render(ports: nil) }
    }

    @Test(arguments: ["6", "6.1-rc1", "v6.1", "6.1.0.1", ""])
    func kernelSourceVersionMustBeXY(version: String) {
        #expect(throws: ClientRecipeError.badKernelSourceVersion(version)) { try Labs.render(ports: 16, kernelSourceVersion: version) }
    }
}
