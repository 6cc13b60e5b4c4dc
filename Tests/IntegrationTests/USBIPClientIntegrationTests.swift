import Foundation
import LabConfig
import Testing
import TestSupport
import USBIPClient
import USBIPWire

/// The client against the real usbip-binder on loopback, checked against Debian's usbip(8).
@Suite(.serialized) struct USBIPClientIntegrationTests {
    static let boards: [FakeServerTree.Board] = [
        .init(busID: "1-1.2", vendor: "09fb", product: "6810", bcd: "0100", interfaces: ["ff/ff/ff"]),
        .init(busID: "1-1.3", vendor: "0403", product: "6010", bcd: "0700", interfaces: ["ff/ff/ff", "ff/ff/ff"]),
        .init(busID: "1-1.4", vendor: "03fd", product: "0013", bcd: "0001", deviceClass: "ff", speed: "12", interfaces: ["ff/00/00"]),
    ]

    static let labYAML = """
        lab: loop-lab
        server:
          board: pi4
          hostname: 127.0.0.1
          port: PORT
        devices:
          - name: de10-nano
            vendor: "09fb"
            product: "6010"
            also: [{vendor: "09fb", product: "6810"}]
          - name: arty-a7
            vendor: "0403"
            product: "6010"
            port: "1-1.3"

        """

    static func lab(port: UInt16, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("lab.yaml").path
        try labYAML.replacingOccurrences(of: "PORT", with: String(port)).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The fields of `usbip list -r` (usb.ids names dropped): per device busid, vid:pid, path,
    /// class triple, then one line per interface. First matching pattern wins (an interface
    /// line also ends in a triple).
    static func usbipFields(_ text: String) -> [String] {
        let patterns: [(String, String)] = [
            (#"^ +([0-9.-]+): .*\(([0-9a-f]{4}:[0-9a-f]{4})\)$"#, "dev $1 $2"),
            (#"^ +: (/sys/.*)$"#, "path $1"),
            (#"^ +: +([0-9]+) - .*\(([0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{2})\)$"#, "if $1 $2"),
            (#"^ +: .*\(([0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{2})\)$"#, "class $1"),
        ]
        var out: [String] = []
        for line in text.split(separator: "\n").map(String.init) {
            for (pattern, template) in patterns {
                let re = try! NSRegularExpression(pattern: pattern)
                let range = NSRange(line.startIndex..., in: line)
                if re.firstMatch(in: line, range: range) != nil {
                    out.append(re.stringByReplacingMatches(in: line, range: range, withTemplate: template))
                    break
                }
            }
        }
        return out
    }

    /// The same fields from the client's OP_REP_DEVLIST.
    static func clientFields(_ devices: [USBIPExportedDevice]) -> [String] {
        devices.flatMap { e -> [String] in
            let d = e.device
            let h2 = { (v: UInt8) in USBIP.hex(UInt32(v), width: 2) }
            var lines = ["dev \(d.busID) \(USBIP.hex(UInt32(d.idVendor), width: 4)):\(USBIP.hex(UInt32(d.idProduct), width: 4))",
                         "path \(d.path)", "class \(h2(d.deviceClass))/\(h2(d.deviceSubClass))/\(h2(d.deviceProtocol))"]
            for (i, f) in e.interfaces.enumerated() {
                lines.append("if \(i) \(h2(f.interfaceClass))/\(h2(f.interfaceSubClass))/\(h2(f.interfaceProtocol))")
            }
            return lines
        }
    }

    /// usbip-binder serving `boards` from a fake tree in a fresh scratch directory, for `body`;
    /// stopped and removed after it.
    static func withBinder(_ name: String, boards: [FakeServerTree.Board] = boards,
                           _ body: (_ scratch: URL, _ tree: FakeServerTree, _ binder: BinderServer) throws -> Void) throws {
        let scratch = try Project.scratch(name)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tree = try FakeServerTree(boards, in: scratch)
        let binder = try BinderServer(tree: tree)
        defer { binder.stop() }
        try body(scratch, tree, binder)
    }

    /// The JSON array of objects a `--json` run printed.
    static func jsonEntries(_ result: ProcessRunner.Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]],
                     "not a JSON array of objects: \(result.stdout)", sourceLocation: sourceLocation)
    }

    @Test func devlistEqualsUsbipListRemote() throws {
        try Self.withBinder("usbip-devlist") { scratch, tree, binder in
            for host in ["127.0.0.1", "::1", "localhost"] {
                let devices = try USBIPRequests.devlist(USBIPServerAddress(host: host, port: binder.port))
                #expect(devices.map(\.device.busID) == ["1-1.2", "1-1.3", "1-1.4"])
                #expect(devices.map(\.device.speed) == [3, 3, 2])
                let usbip = try ProcessRunner.check("usbip", ["--tcp-port", String(binder.port), "list", "-r", host == "localhost" ? "127.0.0.1" : host]).stdout
                let expected = Self.usbipFields(usbip)
                #expect(expected.count == 3 * 3 + 4)
                #expect(Self.clientFields(devices) == expected)
            }
        }
    }

    @Test func listJSONNamesBoards() throws {
        try Self.withBinder("usbip-list") { scratch, tree, binder in
            let lab = try Self.lab(port: binder.port, in: scratch)
            let result = try Project.fpgaLab(["list", "--json", "--config", lab])
            #expect(result.status == 0, "\(result.stderr)")
            let entries = try Self.jsonEntries(result)
            #expect(entries.map { $0["busid"] as? String } == ["1-1.2", "1-1.3", "1-1.4"])
            #expect(entries.map { $0["vendor"] as? String } == ["09fb", "0403", "03fd"])
            #expect(entries.map { $0["product"] as? String } == ["6810", "6010", "0013"])
            #expect(entries.map { $0["speed"] as? Int } == [3, 3, 2])
            #expect(entries.map { ($0["interfaces"] as? [Any])?.count } == [1, 2, 1])
            #expect(entries.map { $0["name"] as? String } == ["de10-nano", "arty-a7", nil])
            let plain = try Project.fpgaLab(["list", "--server", "[::1]:\(binder.port)"])
            #expect(plain.status == 0)
            #expect(plain.stdout.contains("1-1.3  0403:6010  480M    2       -     ff/ff/ff,ff/ff/ff  available"), "\(plain.stdout)")
            #expect(entries.map { $0["state"] as? String } == ["available", "available", "available"])
            let closed = try LoopbackSocket()
            let refused = try Project.fpgaLab(["list", "--server", "127.0.0.1:\(closed.port)", "--timeout", "2"])
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("Connection refused"))
        }
    }

    /// A board handed over is reported in use by the client that took it (OP_REQ_HOLDERS):
    /// by the library, by `list` (plain and --json), and to a second client whose import is
    /// refused. The fake kernel marks it in use (usbip_status 2) as usbip-host would.
    @Test func listAndAttachSayWhoHoldsABoard() throws {
        try Self.withBinder("usbip-holders") { scratch, tree, binder in
            let server = USBIPServerAddress(host: "127.0.0.1", port: binder.port)
            let kernel = try FakeVHCIKernel(in: scratch, hcPorts: 8)
            let client = USBIPClient(vhci: VHCIDriver(sysfsRoot: kernel.root.path, sysfs: KernelSysfs(kernel: kernel)),
                                     records: PortRecords(directory: scratch.appendingPathComponent("run").path))
            let before = Date().timeIntervalSince1970.rounded(.down)
            _ = try client.attach(busID: "1-1.3", from: server)
            let after = Date().timeIntervalSince1970.rounded(.up)
            try tree.setStatus("1-1.3", 2)

            let holders = try #require(try USBIPRequests.holders(server))
            #expect(holders.map(\.busID) == ["1-1.2", "1-1.3", "1-1.4"])
            #expect(holders.map(\.state) == [.available, .inUse, .available])
            let held = holders[1]
            #expect(held.peerAddress == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1])
            #expect(Double(held.since) >= before && Double(held.since) <= after, "since \(held.since) in \(before)...\(after)")
            #expect(held.peerPort > 0)

            let lab = try Self.lab(port: binder.port, in: scratch)
            let json = try Project.fpgaLab(["list", "--json", "--config", lab])
            #expect(json.status == 0, "\(json.stderr)")
            let entries = try Self.jsonEntries(json)
            #expect(entries.map { $0["state"] as? String } == ["available", "in-use", "available"])
            let heldBy = try #require(entries[1]["heldBy"] as? [String: Any])
            #expect(heldBy["address"] as? String == "127.0.0.1")
            #expect(heldBy["port"] as? Int == Int(held.peerPort))
            let since = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(held.since)))
            #expect(heldBy["since"] as? String == since)
            let plain = try Project.fpgaLab(["list", "--config", lab])
            #expect(plain.stdout.contains("arty-a7    ff/ff/ff,ff/ff/ff  in use by 127.0.0.1:\(held.peerPort) since \(since)"), "\(plain.stdout)")

            // A second client: refused, and told by whom.
            #expect(throws: USBIPClientError.refused(busID: "1-1.3", status: USBIPStatus.deviceBusy.rawValue)) {
                try USBIPRequests.importDevice("1-1.3", from: server)
            }
            // The kernel frees the board (detach, or a dead client given up): available again.
            try tree.setStatus("1-1.3", 1)
            #expect(try USBIPRequests.holders(server)?.map(\.state) == [.available, .available, .available])
        }
    }

    @Test func attachEightBoardsAndDetach() throws {
        let boards = (1...8).map { FakeServerTree.Board(busID: "1-1.\($0)", vendor: "0403", product: "6010") }
        try Self.withBinder("usbip-attach8", boards: boards) { scratch, tree, binder in
            let kernel = try FakeVHCIKernel(in: scratch, hcPorts: 8)
            let client = USBIPClient(vhci: VHCIDriver(sysfsRoot: kernel.root.path, sysfs: KernelSysfs(kernel: kernel)),
                                     records: PortRecords(directory: scratch.appendingPathComponent("run").path))
            let server = USBIPServerAddress(host: "127.0.0.1", port: binder.port)
            // No timing here: speed is judged by `make bench`, not by a functional test.
            let attachments = try boards.map { try client.attach(busID: $0.busID, from: server) }
            #expect(attachments.map(\.port) == Array(0..<8))
            #expect(kernel.usedPorts == Array(0..<8))
            for b in boards { #expect(Int(tree.sockfd(b.busID)) != nil, "binder handed over \(b.busID)") }
            let attached = try client.attached()
            #expect(attached.map { $0.record?.busID } == boards.map(\.busID))
            for a in attached { try client.detach(port: a.port.port) }
            #expect(kernel.usedPorts.isEmpty)
            #expect(try client.attached().isEmpty)
        }
    }

    @Test func cliAttachStatusDetach() throws {
        try Self.withBinder("usbip-cli") { scratch, tree, binder in
            let kernel = try FakeVHCIKernel(in: scratch, hcPorts: 4, fifos: true)
            kernel.start()
            defer { kernel.stop() }
            let lab = try Self.lab(port: binder.port, in: scratch)
            let common = ["--sysfs-root", kernel.root.path, "--state-dir", scratch.appendingPathComponent("run").path]
            let attach = try Project.fpgaLab(["attach", "--all", "--config", lab] + common)
            #expect(attach.status == 0, "\(attach.stderr)")
            #expect(attach.stdout.contains("de10-nano: attached 1-1.2 (09fb:6810) on vhci port 0"))
            #expect(attach.stdout.contains("arty-a7: attached 1-1.3 (0403:6010) on vhci port "))
            #expect(tree.sockfd("1-1.2") != "" && tree.sockfd("1-1.3") != "" && tree.sockfd("1-1.4") == "")
            try Wait.until("the fake kernel applied both attaches") { kernel.usedPorts.count == 2 }
            let status = try Project.fpgaLab(["status", "--json", "--config", lab] + common)
            #expect(status.status == 0, "\(status.stderr)")
            let entries = try Self.jsonEntries(status)
            #expect(entries.map { $0["name"] as? String } == ["de10-nano", "arty-a7"])
            #expect(entries.map { $0["busid"] as? String } == ["1-1.2", "1-1.3"])
            #expect(entries.map { $0["server"] as? String } == ["127.0.0.1:\(binder.port)", "127.0.0.1:\(binder.port)"])
            let detach = try Project.fpgaLab(["detach", "arty-a7", "--config", lab] + common)
            #expect(detach.status == 0, "\(detach.stderr)")
            try Wait.until("the fake kernel applied the detach") { kernel.usedPorts.count < 2 }
            #expect(kernel.usedPorts == [0])
            let again = try Project.fpgaLab(["detach", "arty-a7", "--config", lab] + common)
            #expect(again.status == 1)
            #expect(again.stderr.contains("arty-a7: not attached"))
        }
    }

    @Test func watchReattachesAfterServerDrop() throws {
        let scratch = try Project.scratch("usbip-watch")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tree = try FakeServerTree(Self.boards, in: scratch)
        var binder: BinderServer? = try BinderServer(tree: tree)
        let port = try #require(binder?.port)
        let kernel = try FakeVHCIKernel(in: scratch, hcPorts: 4, fifos: true)
        kernel.start()
        defer { kernel.stop(); binder?.stop() }
        let lab = try Self.lab(port: port, in: scratch)
        let watch = try ProcessRunner.Background(Project.binary, [
            "watch", "--config", lab, "--interval", "0.2", "--sysfs-root", kernel.root.path,
            "--state-dir", scratch.appendingPathComponent("run").path,
        ])
        defer { watch.stop() }
        let logText = { watch.output }
        func waitFor(_ what: String, _ condition: () -> Bool) throws {
            try Wait.until(what, context: logText, condition)
        }
        try waitFor("both boards attached") { kernel.usedPorts.count == 2 && tree.sockfd("1-1.2") != "" && tree.sockfd("1-1.3") != "" }
        #expect(logText().contains("de10-nano: attached 1-1.2 (09fb:6810)"))

        // The server goes away; vhci notices the broken connections and frees the ports. The
        // DE10 comes back re-enumerated with its other ID (09fb:6010, an also: of the lab).
        binder?.stop()
        binder = nil
        try tree.attr("\(FakeServerTree.base)/1-1.2/usbip_sockfd", "")
        try tree.attr("\(FakeServerTree.base)/1-1.3/usbip_sockfd", "")
        try tree.attr("\(FakeServerTree.base)/1-1.2/idProduct", "6010\n")
        try kernel.dropAll()
        try waitFor("losses logged") { logText().contains("de10-nano: lost") && logText().contains("arty-a7: lost") }
        try waitFor("a failed retry logged") { logText().contains("retry in 1 s") }
        binder = try BinderServer(tree: tree, port: port)
        try waitFor("both boards attached again") { kernel.usedPorts.count == 2 && tree.sockfd("1-1.2") != "" && tree.sockfd("1-1.3") != "" }
        #expect(logText().contains("de10-nano: attached 1-1.2 (09fb:6010)"))

        watch.signal(SIGTERM)
        #expect(try watch.wait() == 0)
        #expect(logText().hasSuffix("stopped by signal\n"))
    }
}
