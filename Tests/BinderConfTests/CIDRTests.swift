import BinderConf
import Testing

/// The one CIDR's rules: host bits refused, IPv4-mapped blocks read as IPv4, matching done on the
/// 16-byte form (what a dual-stack socket reports).
@Suite struct CIDRSemanticsTests {
    @Test(arguments: [
        ("192.168.10.0/24", "192.168.10.0/24"), ("10.1.2.3", "10.1.2.3/32"), ("0.0.0.0/0", "0.0.0.0/0"),
        ("::1", "::1/128"), ("fd00::/8", "fd00::/8"), ("2001:db8::1:0/112", "2001:db8::1:0/112"),
        ("2001:db8:0:1:0:0:0:0/64", "2001:db8:0:1::/64"), ("::/0", "::/0"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3/128"), ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4/128"), ("FD00::/8", "fd00::/8"),
        // IPv4-mapped: the IPv4 block, in either spelling.
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"), ("::ffff:a00:0/104", "10.0.0.0/8"),
        ("::ffff:192.168.1.7", "192.168.1.7/32"), ("::ffff:0.0.0.0/96", "0.0.0.0/0"),
    ])
    func parsesAndPrints(text: String, canonical: String) throws {
        let cidr = try CIDR(parsing: text)
        #expect(cidr.description == canonical)
        #expect(try CIDR(parsing: canonical) == cidr)
    }

    @Test func mappedEqualsIPv4() throws {
        #expect(try CIDR(parsing: "::ffff:10.0.0.0/104") == CIDR(parsing: "10.0.0.0/8"))
        #expect(try !CIDR(parsing: "::ffff:10.0.0.0/104").isIPv6)
        #expect(try CIDR(parsing: "::ffff:10.0.0.0/104").address == [10, 0, 0, 0])
    }

    @Test(arguments: [
        ("192.168.10.1/24", CIDRError.hostBitsSet("192.168.10.1/24")),
        ("fd00::1/64", .hostBitsSet("fd00::1/64")),
        ("::ffff:10.0.0.1/104", .hostBitsSet("::ffff:10.0.0.1/104")),
        // A mapped address under /96 keeps the ffff in its host bits.
        ("::ffff:0:0/80", .hostBitsSet("::ffff:0:0/80")),
        ("192.168.10.0/33", .badPrefix("192.168.10.0/33", max: 32)),
        ("::/129", .badPrefix("::/129", max: 128)),
        ("10.0.0.0/", .badPrefix("10.0.0.0/", max: 32)), ("10.0.0.0/+8", .badPrefix("10.0.0.0/+8", max: 32)),
        ("10.0.0.0/ 8", .badPrefix("10.0.0.0/ 8", max: 32)), ("10.0.0.0/0008", .badPrefix("10.0.0.0/0008", max: 32)),
        ("300.1.1.1", .malformed("300.1.1.1")), ("1.2.3", .malformed("1.2.3")), ("", .malformed("")),
        ("fe80::1::2", .malformed("fe80::1::2")), ("host.lab", .malformed("host.lab")),
        ("1:2:3:4:5:6:7:8:9", .malformed("1:2:3:4:5:6:7:8:9")), ("12345::", .malformed("12345::")),
        ("::ffff:1.2.3", .malformed("::ffff:1.2.3")), ("10.0.0.0/8/8", .malformed("10.0.0.0/8/8")),
        ("1.2.3.4:5", .malformed("1.2.3.4:5")),
    ])
    func refuses(text: String, error: CIDRError) {
        #expect(throws: error) { try CIDR(parsing: text) }
    }

    @Test func containsIPv4() throws {
        let net = try CIDR(parsing: "192.168.10.0/24")
        #expect(net.contains([192, 168, 10, 77]))
        #expect(!net.contains([192, 168, 11, 1]))
        #expect(net.contains(IPAddress.mapped([192, 168, 10, 1])))
        #expect(!net.contains(IPAddress.parse("::c0a8:a01")!))
        #expect(!net.contains([]))
        #expect(!net.contains([192, 168, 10]))
        #expect(try CIDR(parsing: "0.0.0.0/0").contains([8, 8, 8, 8]))
        #expect(try !CIDR(parsing: "0.0.0.0/0").contains(IPAddress.parse("::1")!))
    }

    @Test func containsIPv6() throws {
        let net = try CIDR(parsing: "fd00::/8")
        #expect(net.contains(IPAddress.parse("fd12:3456::1")!))
        #expect(!net.contains(IPAddress.parse("fe80::1")!))
        #expect(!net.contains([253, 0, 0, 1]))
        // ::/0 holds every peer of a dual-stack socket, IPv4 ones too.
        #expect(try CIDR(parsing: "::/0").contains([10, 1, 2, 3]))
    }

    @Test func mappedBlockMatchesIPv4Peers() throws {
        let net = try CIDR(parsing: "::ffff:10.0.0.0/104")
        #expect(net.contains([10, 200, 0, 1]))
        #expect(net.contains(IPAddress.mapped([10, 200, 0, 1])))
        #expect(!net.contains([11, 0, 0, 1]))
    }

    @Test func loopback() {
        #expect(CIDR.loopback.map(\.description) == ["127.0.0.0/8", "::1/128"])
        #expect(CIDR.loopback.contains { $0.contains(IPAddress.mapped([127, 0, 0, 1])) })
        #expect(CIDR.loopback.contains { $0.contains(IPAddress.parse("::1")!) })
        #expect(!CIDR.loopback.contains { $0.contains([10, 0, 0, 1]) })
    }

    @Test(arguments: [
        ([UInt8]([10, 1, 2, 3]), "10.1.2.3"), (IPAddress.mapped([10, 1, 2, 3]), "::ffff:10.1.2.3"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "::"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8:0:1::1"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"),
    ])
    func formats(bytes: [UInt8], text: String) {
        #expect(IPAddress.format(bytes) == text)
        #expect(IPAddress.parse(text) == bytes)
    }
}
