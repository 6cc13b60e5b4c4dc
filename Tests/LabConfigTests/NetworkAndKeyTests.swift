import Foundation
import Testing
@testable import LabConfig

/// server.network and the authorized_keys lines of server.ssh.
@Suite struct NetworkAndKeyTests {
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host"
    static let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCo/D06DdUewsjWn0N28esh9M4WViBNxCz/d4rZOnQLJiUY7Y2V/UUJGcVrnnAYKP4SLoclA3nq0MOO+cz81LPihKx/3Et5aVoa5Xu5eAYOrRjwn7z7a9zgqYyX/i4ZRspuNENCcTO4VAOS5fG/HNFMy9PPsPQRAx+buH8RF7023Q== rsa@host"
    static let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBJXf1GyuHnXHyteNzh8a/rHJkpxE8XAD3jdwwk9v4DB8Ivu93wvPU2a1NRugdkHa4tm6zrRSZiWJbMQhLbhp8ak= ec@host"

    static func lab(network: String) -> String {
        "lab: l\nserver:\n  board: pi4\n  allow: [10.0.0.0/8]\n  network:\n\(network)\ndevices: [{name: a, vendor: \"0403\", product: \"6010\"}]\n"
    }

    @Test func decodesAStaticAddress() throws {
        let text = Self.lab(network: "    addresses: [192.168.1.50/24, \"fd00::50/64\"]\n    gateway: 192.168.1.1\n    gateway6: \"fd00::1\"\n    dns: [192.168.1.1, \"2001:db8:0:0:0:0:0:1\"]")
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let network = try #require(lab?.server.network)
        #expect(network.addresses.map(\.description) == ["192.168.1.50/24", "fd00::50/64"])
        #expect(network.gateway?.description == "192.168.1.1")
        #expect(network.gateway6?.description == "fd00::1")
        #expect(network.dns.map(\.description) == ["192.168.1.1", "2001:db8::1"])
    }

    @Test(arguments: [
        ("    addresses: [192.168.1.0/24]", "lab.yaml:6:17: server.network.addresses[0]: \"192.168.1.0/24\" is the network's own address, not a host on it"),
        ("    addresses: [192.168.1.50]", "lab.yaml:6:17: server.network.addresses[0]: \"192.168.1.50\" is not ADDRESS/PREFIX (192.168.1.50/24)"),
        ("    addresses: [192.168.1.50/33]", "lab.yaml:6:17: server.network.addresses[0]: \"192.168.1.50/33\" has a prefix length outside 0...32"),
        ("    addresses: []", "lab.yaml:6:16: server.network.addresses: needs at least one address (192.168.1.50/24)"),
        ("    gateway: 10.0.0.1", "lab.yaml:6:5: server.network.addresses: required field is missing"),
        ("    addresses: [192.168.1.50/24]\n    gateway: 192.168.2.1", "lab.yaml:7:14: server.network.gateway: 192.168.2.1 is not inside the network of any address in server.network.addresses (192.168.1.50/24)"),
        ("    addresses: [192.168.1.50/24]\n    gateway: \"fd00::1\"", "lab.yaml:7:14: server.network.gateway: \"fd00::1\" is an IPv6 address; gateway takes IPv4 (gateway6 takes the other)"),
        ("    addresses: [\"fd00::5/64\"]\n    gateway: 10.0.0.1", "lab.yaml:7:14: server.network.gateway: needs an IPv4 address in server.network.addresses to route through"),
        ("    addresses: [192.168.1.50/24]\n    dns: [1.1.1.1/32]", "lab.yaml:7:11: server.network.dns[0]: \"1.1.1.1/32\" is not an address without /PREFIX"),
        ("    addresses: [192.168.1.50/24]\n    vlan: 5", "lab.yaml:7:5: server.network.vlan: unknown key \"vlan\""),
    ])
    func refusesBadNetworks(network: String, message: String) {
        let (lab, diagnostics) = Lab.parse(Self.lab(network: network), file: "lab.yaml")
        #expect(lab == nil || !diagnostics.isEmpty)
        #expect(diagnostics.map(\.description).contains(message), "\(diagnostics.map(\.description))")
    }

    @Test func acceptsRealKeysAndOptions() {
        for line in [Self.ed25519, Self.rsa, Self.ecdsa, "from=\"10.0.0.0/8,192.168.1.0/24\",no-agent-forwarding \(Self.ed25519)",
                     "command=\"echo \\\"hi, there\\\"\",restrict \(Self.ed25519)", "NO-PTY \(Self.rsa)",
                     Self.ed25519.split(separator: " ").prefix(2).joined(separator: " ")] {
            #expect(AuthorizedKey.problem(in: line) == nil, "\(line)")
        }
    }

    @Test(arguments: [
        ("AAAA me", "key type \"AAAA\" is not one of"),
        ("ssh-ed25519", "has no key after its type"),
        ("ssh-ed25519 not*base64 x", "the ssh-ed25519 key is not valid base64"),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 x", "the ssh-ed25519 key's data is cut short"),
        ("ssh-rsa \(ed25519.split(separator: " ")[1])", "the key's data is a \"ssh-ed25519\" key, but the line says ssh-rsa"),
        ("bogus=\"x\" \(ed25519)", "option \"bogus\" is not an authorized_keys option"),
        ("from=10.0.0.1 \(ed25519)", "option from= needs a quoted value"),
        ("from=\"10.0.0.1 \(ed25519)", "option from= has no closing quote"),
        ("command \(ed25519)", "option command needs a value"),
        ("\(ed25519)\nssh-ed25519 AAAA", "must be one line"),
    ])
    func refusesBadKeys(line: String, problem: String) {
        let found = AuthorizedKey.problem(in: line) ?? "accepted"
        #expect(found.hasPrefix(problem), "\(found)")
    }
}

/// server.network.wifi.
@Suite struct WiFiConfigTests {
    static func lab(_ wifi: String) -> String {
        "lab: l\nserver:\n  board: pi4\n  allow: [10.0.0.0/8]\n  network:\n    wifi: \(wifi)\ndevices: [{name: a, vendor: \"0403\", product: \"6010\"}]\n"
    }

    @Test func wifiAloneLeavesEthernetOnDHCP() throws {
        let (lab, diagnostics) = Lab.parse(Self.lab("{ssid: lab-net, psk: \"correct horse\", country: DE}"), file: "lab.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let network = try #require(lab?.server.network)
        #expect(network.addresses.isEmpty)
        #expect(network.wifi == WiFi(ssid: "lab-net", psk: "correct horse", country: "DE"))
    }

    @Test func pskFileIsReadBesideTheLabFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wifi-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("s3cret-passphrase\n".utf8).write(to: dir.appendingPathComponent("wifi.psk"))
        let labPath = dir.appendingPathComponent("lab.yaml").path
        let (lab, diagnostics) = Lab.parse(Self.lab("{ssid: x, psk_file: wifi.psk, country: GB}"), file: labPath)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(lab?.server.network?.wifi?.psk == "s3cret-passphrase")
        let (_, missing) = Lab.parse(Self.lab("{ssid: x, psk_file: nope.psk, country: GB}"), file: labPath)
        #expect(missing.map(\.description) == ["\(labPath):6:31: server.network.wifi.psk_file: \(dir.path)/nope.psk: cannot read it as a small text file (the passphrase or key on one line)"])
        // A pipe (or a directory) where the file should be is refused, never read or waited on.
        #expect(mkfifo(dir.appendingPathComponent("fifo.psk").path, 0o600) == 0)
        let (_, fifo) = Lab.parse(Self.lab("{ssid: x, psk_file: fifo.psk, country: GB}"), file: labPath)
        #expect(fifo.map(\.description) == ["\(labPath):6:31: server.network.wifi.psk_file: \(dir.path)/fifo.psk: cannot read it as a small text file (the passphrase or key on one line)"])
        let (_, directory) = Lab.parse(Self.lab("{ssid: x, psk_file: ., country: GB}"), file: labPath)
        #expect(directory.count == 1)
    }

    @Test(arguments: [
        ("{ssid: x, psk: short, country: DE}", "lab.yaml:6:26: server.network.wifi.psk: is not a WPA passphrase (8 to 63 printable ASCII characters) or pre-shared key (64 hex digits); it has 5 bytes"),
        ("{ssid: x, country: DE}", "lab.yaml:6:11: server.network.wifi: needs psk (the passphrase) or psk_file (a file holding it)"),
        ("{ssid: x, psk: 12345678, psk_file: f, country: DE}", "lab.yaml:6:46: server.network.wifi.psk_file: give psk or psk_file, not both"),
        ("{ssid: x, psk: 12345678, country: de}", "lab.yaml:6:45: server.network.wifi.country: \"de\" is not a country code (two capital letters, ISO 3166: DE, GB, US)"),
        ("{ssid: \"\", psk: 12345678, country: DE}", "lab.yaml:6:18: server.network.wifi.ssid: must be 1 to 32 bytes without control characters"),
        ("{ssid: \"0123456789abcdef0123456789abcdefX\", psk: 12345678, country: DE}", "lab.yaml:6:18: server.network.wifi.ssid: is 33 bytes long, over the limit of 32: an SSID holds at most 32 bytes"),
    ])
    func refusesBadWiFi(wifi: String, message: String) {
        let (lab, diagnostics) = Lab.parse(Self.lab(wifi), file: "lab.yaml")
        #expect(lab == nil)
        #expect(diagnostics.map(\.description) == [message])
    }
}
