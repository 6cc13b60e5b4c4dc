import BinderConf
import Testing

/// binder.conf's encoder and parser: what one writes the other reads back, and every refusal
/// names its line.
@Suite struct BinderConfigTests {
    static let configs: [BinderConfig] = [
        BinderConfig(),
        BinderConfig(port: 3241, deadPeerTimeout: 5),
        BinderConfig(port: 65535, deadPeerTimeout: 3600,
                     allow: [try! CIDR(parsing: "192.168.10.0/24"), try! CIDR(parsing: "10.1.2.3")],
                     devices: [BinderConfig.Device(name: "arty-a7-1", vendor: 0x0403, product: 0x6010, serial: "210319A4B3C1"),
                               BinderConfig.Device(name: "de10-nano-1", vendor: 0x09fb, product: 0x6010, port: "1-1.3"),
                               BinderConfig.Device(name: "x", vendor: 0, product: 0xffff, serial: "A#1=b", port: "2-1.4.1")]),
        BinderConfig(port: 1, allow: [try! CIDR(parsing: "fd00::/8"), try! CIDR(parsing: "::1"), try! CIDR(parsing: "::/0"),
                                      try! CIDR(parsing: "::ffff:10.0.0.0/104"), try! CIDR(parsing: "2001:db8:0:1::/64")]),
        BinderConfig(devices: [BinderConfig.Device(name: "only-device", vendor: 0x1234, product: 0xabcd)]),
    ]

    @Test(arguments: configs)
    func roundTrip(config: BinderConfig) throws {
        #expect(try BinderConfig.parse(Array(config.encode().utf8)) == config)
        #expect(try BinderConfig.parse(Array(config.encode(comment: "lab x\nsecond line").utf8)) == config)
    }

    @Test func encodesTheRenderedLayout() throws {
        let config = Self.configs[2]
        #expect(config.encode(comment: "fpga-lab l: usbip-binder configuration.") == """
            # fpga-lab l: usbip-binder configuration.
            port 65535
            dead_peer_timeout 3600
            allow 192.168.10.0/24
            allow 10.1.2.3/32
            device arty-a7-1 0403:6010 serial=210319A4B3C1
            device de10-nano-1 09fb:6010 port=1-1.3
            device x 0000:ffff serial=A#1=b port=2-1.4.1

            """)
        #expect(BinderConfig().encode() == "port 3240\ndead_peer_timeout 30\n")
    }

    @Test func emptyFileIsTheDefaults() throws {
        #expect(try BinderConfig.parse([]) == BinderConfig())
        #expect(try BinderConfig.parse(Array("# only a comment\n\n   \n".utf8)) == BinderConfig())
        #expect(BinderConfig().allow.isEmpty)
    }

    @Test func commentsBlanksTabsAndCR() throws {
        let text = "port 3240 # trailing comment\r\n\tallow ::1\nallow 10.1.2.3\n  # indented\ndevice x 0403:6010 port=1-1.3\n"
        let config = try BinderConfig.parse(Array(text.utf8))
        #expect(config.allow.map(\.description) == ["::1/128", "10.1.2.3/32"])
        #expect(config.devices == [BinderConfig.Device(name: "x", vendor: 0x0403, product: 0x6010, port: "1-1.3")])
    }

    @Test(arguments: [
        ("# c\n\nport 3240\nlisten 0.0.0.0\n", 4, "unknown directive 'listen'"),
        ("port 3240\nport 3241\n", 2, "'port' repeated (first on line 1)"),
        ("port 65536\n", 1, "bad port '65536' (1-65535)"),
        ("port 0\n", 1, "bad port '0' (1-65535)"),
        ("port\n", 1, "'port' takes one number"),
        ("allow 192.168.10.0/33\n", 1, "bad CIDR '192.168.10.0/33'"),
        ("\nallow 192.168.10.1/24\n", 2, "bad CIDR '192.168.10.1/24' (host bits set after the prefix)"),
        ("allow lab-net\n", 1, "bad CIDR 'lab-net'"),
        ("allow\n", 1, "'allow' takes one CIDR"),
        ("allow 10.0.0.0/8 10.1.0.0/16\n", 1, "'allow' takes one CIDR"),
        ("device a\n", 1, "'device' needs NAME VID:PID"),
        ("device a 0403:601A\n", 1, "bad id '0403:601A' (vid:pid, lowercase hex)"),
        ("device a 0403-6010\n", 1, "bad id '0403-6010' (vid:pid, lowercase hex)"),
        ("device a 0403:6010 color=red\n", 1, "bad device option 'color=red' (serial=S or port=P, each once)"),
        ("device a 0403:6010 serial=A serial=B\n", 1, "bad device option 'serial=B' (serial=S or port=P, each once)"),
        ("device a 0403:6010 port=\n", 1, "bad device option 'port=' (serial=S or port=P, each once)"),
        ("device Arty 0403:6010\n", 1, "bad device name 'Arty' ([a-z0-9-]+)"),
        ("dead_peer_timeout 4\n", 1, "bad dead_peer_timeout '4' (seconds, 5-3600)"),
        ("dead_peer_timeout 30s\n", 1, "bad dead_peer_timeout '30s' (seconds, 5-3600)"),
        ("dead_peer_timeout 30\nport 1\ndead_peer_timeout 60\n", 3, "'dead_peer_timeout' repeated (first on line 1)"),
        ("port 3240\n# " + String(repeating: "x", count: 1100) + "\n", 2, "line longer than 1024 bytes"),
    ])
    func refuses(text: String, line: Int, message: String) {
        do {
            _ = try BinderConfig.parse(Array(text.utf8))
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.message == message)
            #expect(error.description == "line \(line): \(message)")
        }
    }

    @Test func refusesBytesThatAreNotUTF8() throws {
        for bad: [UInt8] in [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0x80]] {
            let bytes = Array("port 3240\n# ".utf8) + bad + [0x0a]
            #expect(throws: BinderConfigError(line: 2, problem: .notUTF8)) { try BinderConfig.parse(bytes) }
        }
        // UTF-8 in a comment is text like any other.
        #expect(try BinderConfig.parse(Array("# Zürich lab\nport 3240\n".utf8)) == BinderConfig())
    }

    @Test func cidrErrorIsKept() {
        #expect(throws: BinderConfigError(line: 1, problem: .badCIDR("10.0.0.1/8", .hostBitsSet("10.0.0.1/8")))) {
            try BinderConfig.parse(Array("allow 10.0.0.1/8\n".utf8))
        }
    }

    @Test func valueParsers() {
        #expect(BinderConfig.port(parsing: "3240") == 3240)
        #expect(BinderConfig.port(parsing: " 3240") == nil)
        #expect(BinderConfig.port(parsing: "003240") == nil)
        #expect(BinderConfig.deadPeerTimeout(parsing: "3600") == 3600)
        #expect(BinderConfig.deadPeerTimeout(parsing: "3601") == nil)
        let range = BinderConfig.deadPeerTimeoutRange
        #expect(BinderConfig.deadPeerTimeoutRangeText == "\(range.lowerBound)-\(range.upperBound)")
    }
}
