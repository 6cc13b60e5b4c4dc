import Testing
@testable import ClientRecipe

@Suite struct VHCIPortsTests {
    /// needed ports -> (ports per controller, controllers, nports)
    @Test(arguments: [
        (1, 15, 1, 30),
        (16, 15, 1, 30),
        (30, 15, 1, 30),
        (31, 15, 2, 60),
        (240, 15, 8, 240),
        (241, 15, 9, 270),
        (300, 15, 10, 300),
        (3839, 15, 128, 3840),
        (3840, 15, 128, 3840),
    ])
    func smallestShapeCoveringThePorts(needed: Int, hcPorts: Int, controllers: Int, total: Int) throws {
        let ports = try VHCIPorts.covering(needed)
        #expect(ports == VHCIPorts(portsPerController: hcPorts, controllers: controllers))
        #expect(ports.total == total)
    }

    @Test(arguments: [0, -1, 3841, 100_000])
    func portsOutsideWhatKconfigAllowsAreRefused(needed: Int) {
        #expect(throws: ClientRecipeError.portsOutOfRange(needed)) { try VHCIPorts.covering(needed) }
    }

    @Test func describedAsPortsTimesControllers() throws {
        #expect(try VHCIPorts.covering(241).description == "15x9")
        #expect(ClientRecipe.packageVersion(try VHCIPorts.covering(16)) == "15x1")
    }

    @Test func errorTextsNameTheLimits() {
        #expect(ClientRecipeError.portsOutOfRange(4000).description
            == "client.ports 4000 is outside 1...3840 (15 ports x 128 controllers x 2 speeds)")
        #expect(ClientRecipeError.noClientSection.description.hasPrefix("the lab config has no client: section"))
    }
}
