import Foundation
import Testing

/// `fpga-lab check` on bad lab configs: every error on stderr as FILE:LINE:COL: FIELD: MESSAGE,
/// then a one-line verdict, exit status 1; nothing on stdout.
@Suite struct BadConfigTests {
    static let good = """
    lab: lab1
    server:
      board: pi3
      allow: [10.0.0.0/8]
    devices:
      - name: arty
        vendor: "0403"
        product: "6010"

    """

    /// (what is wrong, the file, the exact diagnostics)
    static let cases: [(String, String, [String])] = [
        ("YAML syntax", "lab: [unclosed\n", ["lab.yaml:2:1: YAML syntax: did not find expected ',' or ']'"]),
        ("empty file", "", ["lab.yaml:1:1: the file is empty"]),
        ("root is a list", "- a\n- b\n", ["lab.yaml:1:1: expected a mapping (key: value lines), found a list"]),
        ("unknown top-level key", good + "clients: {}\n", [#"lab.yaml:9:1: clients: unknown key "clients"; did you mean "client"?"#]),
        ("missing devices", "lab: l\nserver: {board: pi3, allow: [10.0.0.0/8]}\n", ["lab.yaml:1:1: devices: required field is missing"]),
        ("bad lab name", good.replacingOccurrences(of: "lab: lab1", with: "lab: Lab_1"), [#"lab.yaml:1:6: lab: "Lab_1" must be lowercase letters, digits and '-' (not at either end), at most 63"#]),
        ("unknown board", good.replacingOccurrences(of: "board: pi3", with: "board: pi6"), [#"lab.yaml:3:10: server.board: "pi6" is not a known board (pi0 pi0w pi02 pi1 pi2 pi3 pi3+ pi4 pi400 pi5 cm3 cm4 cm5 auto)"#]),
        ("port out of range", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  port: 0\n"), ["lab.yaml:4:9: server.port: 0 is outside 1...65535"]),
        ("unknown daemon", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  daemon: usbipd2\n"), [#"lab.yaml:4:11: server.daemon: "usbipd2" is not binder or usbipd"#]),
        ("CIDR host bits", good.replacingOccurrences(of: "10.0.0.0/8", with: "10.0.0.1/8"), [#"lab.yaml:4:11: server.allow[0]: "10.0.0.1/8" has host bits set after the prefix"#]),
        ("CIDR garbage", good.replacingOccurrences(of: "10.0.0.0/8", with: "10.0.0.0/8, lab-net"), [#"lab.yaml:4:23: server.allow[1]: "lab-net" is not an IPv4/IPv6 address or CIDR"#]),
        ("vendor not hex", good.replacingOccurrences(of: #"vendor: "0403""#, with: #"vendor: "40x3""#), [#"lab.yaml:7:13: devices[0].vendor: "40x3" is not 4 hex digits"#]),
        ("vendor as a YAML number", good.replacingOccurrences(of: #"vendor: "0403""#, with: "vendor: 0403"), [#"lab.yaml:7:13: devices[0].vendor: 0403 is a YAML number; quote it: "0403""#]),
        ("product missing", good.replacingOccurrences(of: "    product: \"6010\"\n", with: ""), ["lab.yaml:6:5: devices[0].product: required field is missing"]),
        ("unknown device key", good.replacingOccurrences(of: "    product: \"6010\"\n", with: "    product: \"6010\"\n    serail: \"A1\"\n"), [#"lab.yaml:9:5: devices[0].serail: unknown key "serail"; did you mean "serial"?"#]),
        ("bad port path", good.replacingOccurrences(of: "    product: \"6010\"\n", with: "    product: \"6010\"\n    port: \"usb1\"\n"), [#"lab.yaml:9:11: devices[0].port: "usb1" is not a USB port path like 1-1.3"#]),
        ("serial with a quote", good.replacingOccurrences(of: "    product: \"6010\"\n", with: "    product: \"6010\"\n    serial: 'A\"1'\n"), [#"lab.yaml:9:13: devices[0].serial: "A"1" must be printable ASCII without spaces, quotes, backslashes or wildcards"#]),
        ("duplicate names", good + "  - name: arty\n    vendor: \"0403\"\n    product: \"6001\"\n", [#"lab.yaml:9:11: devices[1].name: "arty" is already the name of devices[0]"#]),
        ("identical match", good + "  - name: arty-2\n    vendor: \"0403\"\n    product: \"6010\"\n", ["lab.yaml:9:5: devices[1]: matches the same boards as devices[0] (0403:6010); add serial: or port: to tell them apart"]),
        ("bad also entry", good.replacingOccurrences(of: "    product: \"6010\"\n", with: "    product: \"6010\"\n    also: [{vendor: \"03fd\"}]\n"), ["lab.yaml:9:12: devices[0].also[0].product: required field is missing"]),
        ("bad ssh key", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  ssh: {user: lab, authorized_keys: [\"AAAA me\"]}\n"), [#"lab.yaml:4:38: server.ssh.authorized_keys[0]: key type "AAAA" is not one of ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ecdsa-sha2-nistp256@openssh.com, sk-ssh-ed25519@openssh.com, ssh-ed25519, ssh-rsa"#]),
        // Values that become paths or file contents on the Pi never leave their directory.
        ("ssh user with '..'", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  ssh: {user: \"../../etc/cron.d/x\", authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host\"]}\n"), [#"lab.yaml:4:15: server.ssh.user: "../../etc/cron.d/x" is not a valid login name (lowercase letters, digits, _ and -, up to 32, not root)"#]),
        ("absolute ssh user", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  ssh: {user: /root, authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host\"]}\n"), [#"lab.yaml:4:15: server.ssh.user: "/root" is not a valid login name (lowercase letters, digits, _ and -, up to 32, not root)"#]),
        ("empty ssh user", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  ssh: {user: \"\", authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRlMl7iI5RghZjxhdn5zYS67vaIEDw/75msWGUZOuWb admin@host\"]}\n"), [#"lab.yaml:4:15: server.ssh.user: "" is not a valid login name (lowercase letters, digits, _ and -, up to 32, not root)"#]),
        ("hostname with '..'", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  hostname: ../evil\n"), [#"lab.yaml:4:13: server.hostname: "../evil" is not a valid host name"#]),
        ("hostname with a slash", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  hostname: \"a/b\"\n"), [#"lab.yaml:4:13: server.hostname: "a/b" is not a valid host name"#]),
        ("lab name with '..'", good.replacingOccurrences(of: "lab: lab1", with: "lab: ../lab"), [#"lab.yaml:1:6: lab: "../lab" must be lowercase letters, digits and '-' (not at either end), at most 63"#]),
        ("board name with '..'", good.replacingOccurrences(of: "name: arty", with: "name: ../../etc"), [#"lab.yaml:6:11: devices[0].name: "../../etc" must be lowercase letters, digits and '-' (not at either end), at most 63"#]),
        ("server board with '..'", good.replacingOccurrences(of: "board: pi3", with: "board: ../pi3"), [#"lab.yaml:3:10: server.board: "../pi3" is not a known board (pi0 pi0w pi02 pi1 pi2 pi3 pi3+ pi4 pi400 pi5 cm3 cm4 cm5 auto)"#]),
        ("bad module name", good.replacingOccurrences(of: "  board: pi3\n", with: "  board: pi3\n  blacklist: [\"ftdi sio\"]\n"), [#"lab.yaml:4:15: server.blacklist[0]: "ftdi sio" is not a kernel module name"#]),
        ("too few client ports", good + "client: {ports: 0}\n", ["lab.yaml:9:17: client.ports: 0 is outside 1...3840"]),
        // Issue 18: each repeated key at its own place (not one error at 1:1 and the whole file),
        // string fields bounded by what reads them, merge keys understood.
        ("repeated keys", good.replacingOccurrences(of: "  allow: [10.0.0.0/8]\n", with: "  allow: [10.0.0.0/8]\n  board: pi4\n") + "    product: \"6011\"\n", [
            "lab.yaml:5:3: server.board: key given twice (first at 3:3)",
            "lab.yaml:10:5: devices[0].product: key given twice (first at 9:5)",
        ]),
        ("100,000-character serial", good.replacingOccurrences(of: "    product: \"6010\"\n", with: "    product: \"6010\"\n    serial: \"\(String(repeating: "A", count: 100_000))\"\n"),
         ["lab.yaml:9:13: devices[0].serial: is 100000 bytes long, over the limit of 126: a USB serial number holds at most 126 characters"]),
        ("merge of a scalar", good.replacingOccurrences(of: "  - name: arty\n", with: "  - <<: arty\n    name: arty\n"),
         [#"lab.yaml:6:9: devices[0].<<: a merge key (<<) takes a mapping or a list of mappings (*anchor), found the value "arty""#]),
        ("too many boards", "lab: l\nserver: {board: pi3, allow: [10.0.0.0/8]}\ndevices:\n" + (0..<17).map { "  - {name: b\($0), vendor: \"0403\", product: \"6010\", serial: \"S\($0)\"}\n" }.joined(),
         ["lab.yaml:4:3: devices: 17 boards exceed the 16 busids usbip-host can export from one server; split them over two servers"]),
        ("several errors at once", "lab: l\nserver: {board: pi9, port: x}\ndevices: []\n", [
            #"lab.yaml:2:17: server.board: "pi9" is not a known board (pi0 pi0w pi02 pi1 pi2 pi3 pi3+ pi4 pi400 pi5 cm3 cm4 cm5 auto)"#,
            #"lab.yaml:2:28: server.port: "x" is not a whole number"#,
            "lab.yaml:3:10: devices: needs at least one board",
        ]),
    ]

    @Test(arguments: cases.indices)
    func badConfigIsReportedExactly(index: Int) throws {
        let (what, text, expected) = Self.cases[index]
        let result = try FPGALabBinary.run(["check", "--config", "lab.yaml"], lab: text)
        #expect(result.status == 1, "\(what)")
        #expect(result.stdout == "", "\(what)")
        let errors = expected.count
        let verdict = "lab.yaml: invalid: \(errors) error\(errors == 1 ? "" : "s")"
        let lines = result.stderr.split(separator: "\n").map(String.init).filter { !$0.contains(": warning: ") }
        #expect(lines == expected + [verdict], "\(what)")
    }

    @Test func goodConfigIsValid() throws {
        let result = try FPGALabBinary.run(["check", "--config", "lab.yaml"], lab: Self.good)
        #expect(result.status == 0)
        #expect(result.stdout == "lab.yaml: valid: lab lab1, 1 board, server pi3 (lab1) with binder on port 3240\n")
        #expect(result.stderr == "")
    }

    @Test func warningsGoToStderrResultsToStdout() throws {
        let result = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output", "o.tar", "--binder-dir", "no-builds"], lab: Self.good)
        #expect(result.status == 0)
        #expect(result.stdout == "o.tar: 17 entries\n")
        #expect(result.stderr.hasPrefix("fpga-lab: warning: daemon binder: no usbip-binder executable was given"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// Shared device fields through an anchor and a merge key check as valid.
    @Test func mergeKeysAreValid() throws {
        let text = """
        x-ftdi: &ftdi {vendor: "0403", product: "6010"}
        lab: lab1
        server: {board: pi3, allow: [10.0.0.0/8]}
        devices:
          - {<<: *ftdi, name: arty-1, serial: "A1"}
          - {<<: *ftdi, name: arty-2, serial: "A2"}

        """
        let result = try FPGALabBinary.run(["check", "--config", "lab.yaml"], lab: text)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "lab.yaml: valid: lab lab1, 2 boards, server pi3 (lab1) with binder on port 3240\n")
    }

    /// `--output-dir` and `--output` make missing parent directories, as build-image does; a
    /// parent that cannot be made is one `fpga-lab: error:` line naming it and the reason.
    @Test func renderOutputParents() throws {
        try FPGALabBinary.withLab(Self.good) { dir in
            let made = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "missing/sub/overlay", "--binder-dir", "no-builds"], in: dir)
            #expect(made.status == 0, "\(made.stderr)")
            #expect(made.stdout == "missing/sub/overlay: 17 entries\n")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("missing/sub/overlay/etc/udev/rules.d/90-fpga-lab.rules").path))
            let tarball = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output", "other/o.tar", "--binder-dir", "no-builds"], in: dir)
            #expect(tarball.status == 0, "\(tarball.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("other/o.tar").path))

            try Data("not a directory\n".utf8).write(to: dir.appendingPathComponent("file"))
            let blocked = try FPGALabBinary.run(["render", "--config", "lab.yaml", "--output-dir", "file/sub/overlay", "--binder-dir", "no-builds"], in: dir)
            #expect(blocked.status == 1)
            let errors = blocked.stderr.split(separator: "\n").filter { !$0.contains(": warning: ") }
            #expect(errors == ["fpga-lab: error: file/sub/overlay: cannot write the output: cannot create its directory file/sub: Not a directory"])
            #expect(!blocked.stderr.contains("NSCocoaErrorDomain"))
        }
    }

    @Test func missingConfigFile() throws {
        let result = try FPGALabBinary.run(["check", "--config", "/nonexistent/lab.yaml"])
        #expect(result.status == 1)
        #expect(result.stderr == "fpga-lab: error: /nonexistent/lab.yaml: cannot read the lab config (missing or not readable)\n")
    }
}
