import BootFiles
import Testing
@testable import LabConfig

@Suite struct LabParseTests {
    static let valid = """
    lab: fpga-lab-1
    server:
      board: pi4
      hostname: fpga-pi-01
      port: 3240
      daemon: binder
      allow: [192.168.10.0/24, 10.1.2.3]
      ssh:
        user: lab
        authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host"]
      blacklist: [ftdi_sio]
    devices:
      - name: arty-a7-1
        vendor: "0403"
        product: "6010"
        serial: "210319A4B3C1"
        port: "1-1.3"
        also: [{vendor: "03FD", product: "0013"}]
    client:
      server: fpga-pi-01.lab
      ports: 16
    """

    @Test func decodesEveryField() throws {
        let (lab, diagnostics) = Lab.parse(Self.valid, file: "lab.yaml")
        #expect(diagnostics.isEmpty)
        let decoded = try #require(lab)
        #expect(decoded.name == "fpga-lab-1")
        #expect(decoded.server.board == .pi4)
        #expect(decoded.server.daemon == .binder)
        #expect(decoded.server.allow.map(\.description) == ["192.168.10.0/24", "10.1.2.3/32"])
        #expect(decoded.server.ssh?.user == "lab")
        #expect(decoded.server.blacklist == ["ftdi_sio"])
        let device = try #require(decoded.devices.first)
        #expect(device.ids.map(\.description) == ["0403:6010", "03fd:0013"])
        #expect(device.serial == "210319A4B3C1")
        #expect(device.port == "1-1.3")
        #expect(decoded.client == Client(server: "fpga-pi-01.lab", ports: 16))
        #expect(decoded.hostname == "fpga-pi-01")
    }

    @Test func defaultsApply() throws {
        let text = """
        lab: bench
        server: {board: pi3, allow: [10.0.0.0/8]}
        devices: [{name: a, vendor: "0403", product: "6001"}]
        """
        let (lab, diagnostics) = Lab.parse(text, file: "l.yaml")
        #expect(diagnostics.isEmpty)
        let decoded = try #require(lab)
        #expect(decoded.server.port == 3240)
        #expect(decoded.server.deadPeerTimeout == 30)
        #expect(decoded.server.daemon == .binder)
        #expect(decoded.hostname == "bench")
        #expect(decoded.client == nil)
    }

    @Test func reportsEveryErrorAtOnce() {
        let text = """
        lab: Bad_Name
        server:
          board: pi9
          port: 70000
        devices:
          - name: a
            vendor: "40x3"
            product: 6010
        """
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(lab == nil)
        #expect(diagnostics.map(\.description) == [
            #"lab.yaml:1:6: lab: "Bad_Name" must be lowercase letters, digits and '-' (not at either end), at most 63"#,
            #"lab.yaml:3:10: server.board: "pi9" is not a known board (pi0 pi0w pi02 pi1 pi2 pi3 pi3+ pi4 pi400 pi5 cm3 cm4 cm5 auto)"#,
            "lab.yaml:4:9: server.port: 70000 is outside 1...65535",
            #"lab.yaml:7:13: devices[0].vendor: "40x3" is not 4 hex digits"#,
            #"lab.yaml:8:14: devices[0].product: 6010 is a YAML number; quote it: "6010""#,
        ])
    }

    @Test func deadPeerTimeoutIsCheckedAndOnlyForTheBinder() throws {
        let bad = """
        lab: l
        server: {board: pi4, allow: [10.0.0.0/8], dead_peer_timeout: 4}
        devices: [{name: a, vendor: "0403", product: "6001"}]
        """
        let (none, errors) = Lab.parse(bad, file: "lab.yaml")
        #expect(none == nil)
        #expect(errors.map(\.description) == ["lab.yaml:2:62: server.dead_peer_timeout: 4 is outside 5...3600"])
        let usbipd = """
        lab: l
        server: {board: pi4, allow: [10.0.0.0/8], daemon: usbipd, dead_peer_timeout: 60}
        devices: [{name: a, vendor: "0403", product: "6001"}]
        """
        let (lab, warnings) = Lab.parse(usbipd, file: "lab.yaml")
        #expect(lab?.server.deadPeerTimeout == 60)
        #expect(warnings.map(\.description) == [
            "lab.yaml:2:78: warning: server.dead_peer_timeout: applies to usbip-binder only (daemon: binder); usbipd frees a vanished client's board only when TCP gives up on it",
        ])
    }

    @Test func warningsDoNotInvalidate() throws {
        let text = """
        lab: l
        server: {board: pi4}
        devices: [{name: a, vendor: "0403", product: "6001"}]
        client: {ports: 300}
        """
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(lab != nil)
        #expect(diagnostics.map(\.description) == [
            "lab.yaml:2:9: warning: server.allow: empty: only loopback clients will be able to connect",
            "lab.yaml:4:17: warning: client.ports: 300 ports is more than Debian 12's stock vhci-hcd (240); `fpga-lab client-recipe` builds one with enough",
        ])
    }
}

@Suite struct CIDRTests {
    @Test(arguments: [
        ("192.168.10.0/24", "192.168.10.0/24"), ("10.1.2.3", "10.1.2.3/32"), ("0.0.0.0/0", "0.0.0.0/0"),
        ("::1", "::1/128"), ("fd00::/8", "fd00::/8"), ("2001:db8::1:0/112", "2001:db8::1:0/112"),
        // IPv4-mapped blocks are the IPv4 block, as usbip-binder reads them (BinderConf's CIDR).
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
    ])
    func parses(text: String, canonical: String) throws {
        #expect(try CIDR(parsing: text).description == canonical)
    }

    @Test(arguments: [
        ("192.168.10.1/24", CIDRError.hostBitsSet("192.168.10.1/24")),
        ("192.168.10.0/33", .badPrefix("192.168.10.0/33", max: 32)),
        ("300.1.1.1", .malformed("300.1.1.1")), ("1.2.3", .malformed("1.2.3")),
        ("fe80::1::2", .malformed("fe80::1::2")), ("10.0.0.0/", .badPrefix("10.0.0.0/", max: 32)),
        ("host.lab", .malformed("host.lab")),
    ])
    func refuses(text: String, error: CIDRError) {
        #expect(throws: error) { try CIDR(parsing: text) }
    }
}

@Suite struct CapacityTests {
    func lab(devices count: Int, board: Board = .pi3, ports: Int? = nil, port: (Int) -> String? = { _ in nil }) -> Lab {
        let devices = (0..<count).map { Device(name: "b\($0)", id: USBID(vendor: "0403", product: "6010")!, serial: "S\($0)", port: port($0)) }
        return Lab(name: "l", server: Server(board: board, allow: [try! CIDR(parsing: "10.0.0.0/8")]),
                   devices: devices, client: ports.map { Client(server: nil, ports: $0) })
    }

    @Test func sixteenBusidsFitSeventeenDoNot() {
        #expect(Capacity.check(lab(devices: 16)).isEmpty)
        #expect(Capacity.check(lab(devices: 17)).map(\.message) == [
            "17 boards exceed the 16 busids usbip-host can export from one server; split them over two servers",
        ])
    }

    @Test func clientPortsMustHoldEveryBoard() {
        #expect(Capacity.check(lab(devices: 4, ports: 3)).map(\.field) == ["client.ports"])
        #expect(Capacity.check(lab(devices: 4, ports: 4)).isEmpty)
    }

    @Test func pi4CountsHubsAsSlots() {
        // 16 boards, each behind its own chain of two hubs: 16 + 32 hub slots > 32.
        let deep = lab(devices: 16, board: .pi4) { "2-1.\($0 + 1).1" }
        #expect(Capacity.impliedHubs(deep.devices).count == 17)
        #expect(Capacity.check(deep).map(\.message) == ["16 boards and their hubs need 33 xHCI slots; a Pi 4's VL805 has 32"])
        #expect(Capacity.check(lab(devices: 16, board: .pi3) { "2-1.\($0 + 1).1" }).isEmpty)
    }
}
