import Testing
@testable import LabConfig

/// Merge keys, repeated keys and the length of every string field (issue 18, items 16-18).
@Suite struct LabConfigLimitsTests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host"

    /// Shared device fields through an anchor and `<<`: the device's own keys win, an earlier
    /// merged mapping wins over a later one.
    @Test func mergeKeysShareDeviceFields() throws {
        let text = """
        x-ftdi: &ftdi
          vendor: "0403"
          product: "6010"
        x-digilent: &digilent
          product: "6014"
          also: [{vendor: "03fd", product: "0013"}]
        lab: bench
        server: {board: pi4, allow: [10.0.0.0/8]}
        devices:
          - <<: *ftdi
            name: arty-1
            serial: "A1"
          - <<: [*digilent, *ftdi]
            name: arty-2
            serial: "A2"
          - <<: *ftdi
            name: arty-3
            product: "6001"
        """
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let devices = try #require(lab?.devices)
        #expect(devices.map(\.name) == ["arty-1", "arty-2", "arty-3"])
        #expect(devices.map(\.id.description) == ["0403:6010", "0403:6014", "0403:6001"])
        #expect(devices[1].also.map(\.description) == ["03fd:0013"])
        #expect(devices.map(\.serial) == ["A1", "A2", nil])
    }

    /// A merged key that is not allowed is reported where it is written; a merge of a scalar is
    /// refused with a message saying what `<<` takes.
    @Test func badMergesAreReported() {
        let text = """
        x-bad: &bad
          vendor: "0403"
          colour: red
        lab: bench
        server: {board: pi4, allow: [10.0.0.0/8]}
        devices:
          - <<: *bad
            name: a
            product: "6010"
          - <<: 12
            name: b
            vendor: "0403"
            product: "6011"
        """
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(lab == nil)
        #expect(diagnostics.map(\.description) == [
            #"lab.yaml:3:3: devices[0].colour: unknown key "colour""#,
            #"lab.yaml:10:9: devices[1].<<: a merge key (<<) takes a mapping or a list of mappings (*anchor), found the value "12""#,
        ])
    }

    /// Every repeated key is reported at its own line and column, naming the first one; the
    /// file is not dumped.
    @Test func everyRepeatedKeyAtItsOwnPlace() {
        let text = """
        lab: bench
        server:
          board: pi4
          allow: [10.0.0.0/8]
          board: pi3
        devices:
          - name: a
            vendor: "0403"
            product: "6010"
            vendor: "0403"
            vendor: "0404"
        lab: again
        """
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(lab == nil)
        #expect(diagnostics.map(\.description) == [
            "lab.yaml:5:3: server.board: key given twice (first at 3:3)",
            "lab.yaml:10:5: devices[0].vendor: key given twice (first at 8:5)",
            "lab.yaml:11:5: devices[0].vendor: key given twice (first at 8:5)",
            "lab.yaml:12:1: lab: key given twice (first at 1:1)",
        ])
    }

    /// A lab.yaml with one device and a pi4 server; VALUE marks where a test puts its value.
    static func lab(lab: String = "l", server: String = "board: pi4", device: String = #"name: a, vendor: "0403", product: "6010""#,
                    client: String? = nil) -> String {
        "lab: \(lab)\nserver: {\(server)}\ndevices: [{\(device)}]" + (client.map { "\nclient: {\($0)}" } ?? "")
    }

    /// Each string field with a value far too long: one short error naming the field and the
    /// limit, never the value.
    @Test(arguments: [
        ("lab", lab(lab: "VALUE"), 63),
        ("server.hostname", lab(server: "board: pi4, hostname: VALUE"), 253),
        ("server.board", lab(server: "board: VALUE"), 16),
        ("server.daemon", lab(server: "board: pi4, daemon: VALUE"), 16),
        ("server.allow[0]", lab(server: "board: pi4, allow: [VALUE]"), 43),
        ("server.ssh.user", lab(server: "board: pi4, ssh: {user: VALUE, authorized_keys: [\"\(key)\"]}"), 32),
        ("server.ssh.authorized_keys[0]", lab(server: "board: pi4, ssh: {user: lab, authorized_keys: [\"ssh-ed25519 VALUE\"]}"), 8192),
        ("server.blacklist[0]", lab(server: "board: pi4, blacklist: [VALUE]"), 55),
        ("devices[0].name", lab(device: "name: VALUE, vendor: \"0403\", product: \"6010\""), 63),
        ("devices[0].vendor", lab(device: "name: a, vendor: \"VALUE\", product: \"6010\""), 16),
        ("devices[0].serial", lab(device: "name: a, vendor: \"0403\", product: \"6010\", serial: VALUE"), 126),
        ("devices[0].port", lab(device: "name: a, vendor: \"0403\", product: \"6010\", port: VALUE"), 32),
        ("client.server", lab(client: "server: VALUE"), 253),
    ])
    func everyStringFieldIsBounded(field: String, template: String, limit: Int) {
        let value = String(repeating: "a", count: 100_000)
        let (lab, diagnostics) = Lab.parse(template.replacingOccurrences(of: "VALUE", with: value), file: "lab.yaml")
        #expect(lab == nil)
        let errors = diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1, "\(field): \(errors.map(\.field))")
        let error = errors.first
        #expect(error?.field == field)
        let message = error?.message ?? ""
        #expect(message.hasPrefix("is 100") && message.contains(" bytes long, over the limit of \(limit): "), "\(message.prefix(200))")
        #expect((error?.description.utf8.count ?? .max) < 300)
    }

    /// The longest values the consumers take are accepted.
    @Test func valuesAtTheLimitsAreAccepted() throws {
        let serial = String(repeating: "S", count: 126)
        let host = (0..<4).map { _ in String(repeating: "h", count: 62) }.joined(separator: ".")  // 251
        let module = String(repeating: "m", count: 55)
        let text = """
        lab: \(String(repeating: "l", count: 63))
        server: {board: pi4, hostname: \(host), allow: [10.0.0.0/8], blacklist: [\(module)]}
        devices: [{name: a, vendor: "0403", product: "6010", serial: "\(serial)", port: "1-1.2.3.4.5.6"}]
        """
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        #expect(lab?.devices.first?.serial == serial)
    }

    /// A USB serial is printable ASCII: control characters are refused too.
    @Test func serialWithAControlCharacterIsRefused() {
        let text = "lab: l\nserver: {board: pi4, allow: [10.0.0.0/8]}\ndevices: [{name: a, vendor: \"0403\", product: \"6010\", serial: \"A\\x01B\"}]"
        let (lab, diagnostics) = Lab.parse(text, file: "lab.yaml")
        #expect(lab == nil)
        #expect(diagnostics.map(\.field) == ["devices[0].serial"])
    }

    /// A long unknown key is shown cut short, in the field path too (YAML's limit for a
    /// plain key is 1024 characters).
    @Test func longUnknownKeyIsCutShort() {
        let key = String(repeating: "k", count: 1_000)
        let text = "lab: l\nserver: {board: pi4, allow: [10.0.0.0/8]}\ndevices: [{name: a, vendor: \"0403\", product: \"6010\"}]\n\(key): 1\n"
        let (_, diagnostics) = Lab.parse(text, file: "lab.yaml")
        let shown = String(repeating: "k", count: 40) + "..."
        #expect(diagnostics.map(\.description) == [#"lab.yaml:4:1: \#(shown): unknown key "\#(shown)" (1000 bytes)"#])
    }
}
