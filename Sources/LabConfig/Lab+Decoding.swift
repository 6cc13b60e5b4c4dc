import BootFiles
import Foundation
import Yams

/// A lab config file as read from disk: its bytes (hashed into the manifest), the decoded lab
/// and the warnings of the capacity preflight.
public struct LabFile: Sendable {
    public let path: String
    public let bytes: [UInt8]
    public let lab: Lab
    public let warnings: [Diagnostic]

    /// Reads and validates `path`. Throws `LabConfigError` with every problem found, or
    /// `LabFileError` when the file cannot be read at all.
    public static func load(path: String) throws -> LabFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LabFileError.unreadable(path)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw LabFileError.notUTF8(path) }
        let (lab, diagnostics) = Lab.parse(text, file: path)
        guard let lab, !diagnostics.contains(where: { $0.severity == .error }) else {
            throw LabConfigError(diagnostics: diagnostics)
        }
        return LabFile(path: path, bytes: Array(data), lab: lab, warnings: diagnostics)
    }
}

public enum LabFileError: Error, CustomStringConvertible {
    case unreadable(String)
    case notUTF8(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path): cannot read the lab config (missing or not readable)"
        case .notUTF8(let path): "\(path): the lab config is not UTF-8 text"
        }
    }
}

extension Lab {
    /// Decodes and validates a lab config. Returns the lab when there is no error, and every
    /// diagnostic (errors and warnings) in file order.
    public static func parse(_ text: String, file: String) -> (Lab?, [Diagnostic]) {
        var reader = YAMLReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
            return (nil, duplicateKeyDiagnostics(text, keys: keys, mark: context.mark, file: file))
        } catch let error as YamlError {
            return (nil, [syntaxDiagnostic(error, file: file)])
        } catch {
            return (nil, [Diagnostic(file: file, line: 1, column: 1, field: "", message: "\(error)")])
        }
        guard let root else {
            return (nil, [Diagnostic(file: file, line: 1, column: 1, field: "", message: "the file is empty")])
        }
        let lab = reader.lab(root)
        if let lab { reader.validate(lab, root: root) }
        let sorted = reader.diagnostics.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
        let ok = !sorted.contains { $0.severity == .error }
        return (ok ? lab : nil, sorted)
    }

    /// One error per repeated key, at the repeat, naming the first occurrence. Yams stops at
    /// the first mapping with repeats; `DuplicateKeys` walks the whole file.
    private static func duplicateKeyDiagnostics(_ text: String, keys: [String], mark: Mark, file: String) -> [Diagnostic] {
        let found = DuplicateKeys.find(in: text)
        guard !found.isEmpty else {
            let list = keys.map { "\"\($0)\"" }.joined(separator: ", ")
            return [Diagnostic(file: file, line: mark.line, column: mark.column, field: "", message: "key given twice: \(list)")]
        }
        return found.map {
            Diagnostic(file: file, line: $0.line, column: $0.column, field: $0.field,
                       message: "key given twice (first at \($0.firstLine):\($0.firstColumn))")
        }
    }

    private static func syntaxDiagnostic(_ error: YamlError, file: String) -> Diagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return Diagnostic(file: file, line: mark.line, column: mark.column, field: "",
                              message: "YAML syntax: \(problem)")
        default:
            return Diagnostic(file: file, line: 1, column: 1, field: "", message: "YAML: \(error)")
        }
    }
}

extension YAMLReader {
    mutating func lab(_ root: Node) -> Lab? {
        guard let top = mapping(root, "", keys: ["lab", "server", "devices", "client"]) else { return nil }
        let name = required(top, "lab", in: root, "").flatMap { hostLabel($0, "lab") }
        let server = required(top, "server", in: root, "").flatMap { self.server($0) }
        let devices = required(top, "devices", in: root, "").flatMap { self.devices($0) }
        let client = top["client"].flatMap { self.client($0, deviceCount: devices?.count ?? 0) }
        guard let name, let server, let devices, top["client"] == nil || client != nil else { return nil }
        return Lab(name: name, server: server, devices: devices, client: client)
    }

    mutating func server(_ node: Node) -> Server? {
        let field = "server"
        guard let entries = mapping(node, field, keys: [
            "board", "hostname", "port", "daemon", "allow", "ssh", "blacklist", "dead_peer_timeout", "network",
        ]) else { return nil }
        var ok = true
        var server = Server(board: .auto)
        if let boardNode = required(entries, "board", in: node, field), let text = string(boardNode, "server.board", limit: .keyword) {
            if let board = Board(rawValue: text) { server.board = board } else {
                report(boardNode, "server.board", "\"\(text)\" is not a known board (\(Board.allCases.map(\.rawValue).joined(separator: " ")))")
                ok = false
            }
        } else { ok = false }
        if let hostNode = entries["hostname"] {
            if let text = hostname(hostNode, "server.hostname") { server.hostname = text } else { ok = false }
        }
        if let portNode = entries["port"] {
            if let port = int(portNode, "server.port", range: 1...65535) { server.port = port } else { ok = false }
        }
        if let daemonNode = entries["daemon"], let text = string(daemonNode, "server.daemon", limit: .keyword) {
            if let daemon = Daemon(rawValue: text) { server.daemon = daemon } else {
                report(daemonNode, "server.daemon", "\"\(text)\" is not binder or usbipd")
                ok = false
            }
        } else if entries["daemon"] != nil { ok = false }
        if let allowNode = entries["allow"] {
            if let allow = cidrs(allowNode, "server.allow") { server.allow = allow } else { ok = false }
        }
        if let sshNode = entries["ssh"] {
            if let ssh = ssh(sshNode) { server.ssh = ssh } else { ok = false }
        }
        if let networkNode = entries["network"] {
            if let network = network(networkNode) { server.network = network } else { ok = false }
        }
        if let blacklistNode = entries["blacklist"] {
            if let modules = moduleNames(blacklistNode, "server.blacklist") { server.blacklist = modules } else { ok = false }
        }
        if let timeoutNode = entries["dead_peer_timeout"] {
            if let seconds = int(timeoutNode, "server.dead_peer_timeout", range: Server.deadPeerTimeoutRange) {
                server.deadPeerTimeout = seconds
            } else { ok = false }
        }
        return ok ? server : nil
    }

    mutating func cidrs(_ node: Node, _ field: String) -> [CIDR]? {
        guard let items = sequence(node, field) else { return nil }
        var out: [CIDR] = []
        for (index, item) in items.enumerated() {
            guard let text = string(item, "\(field)[\(index)]", limit: .address) else { continue }
            do { out.append(try CIDR(parsing: text)) } catch { report(item, "\(field)[\(index)]", error.description) }
        }
        return out.count == items.count ? out : nil
    }

    mutating func ssh(_ node: Node) -> SSH? {
        let field = "server.ssh"
        guard let entries = mapping(node, field, keys: ["user", "authorized_keys"]) else { return nil }
        var user: String?
        if let userNode = required(entries, "user", in: node, field), let text = string(userNode, "\(field).user", limit: .user) {
            if text.range(of: #"^[a-z_][a-z0-9_-]{0,31}$"#, options: .regularExpression) != nil, text != "root" {
                user = text
            } else {
                report(userNode, "\(field).user", "\"\(text)\" is not a valid login name (lowercase letters, digits, _ and -, up to 32, not root)")
            }
        }
        var keys: [String] = []
        var keysOK = false
        if let keysNode = required(entries, "authorized_keys", in: node, field), let items = sequence(keysNode, "\(field).authorized_keys") {
            keysOK = !items.isEmpty
            if items.isEmpty { report(keysNode, "\(field).authorized_keys", "needs at least one public key") }
            for (index, item) in items.enumerated() {
                let path = "\(field).authorized_keys[\(index)]"
                guard let text = string(item, path, limit: .authorizedKey) else { keysOK = false; continue }
                if let problem = AuthorizedKey.problem(in: text) {
                    report(item, path, problem)
                    keysOK = false
                } else { keys.append(text) }
            }
        }
        guard let user, keysOK else { return nil }
        return SSH(user: user, authorizedKeys: keys)
    }

    /// `server.network`: `addresses` (ADDRESS/PREFIX, host bits kept), `gateway` (IPv4, inside an
    /// IPv4 address's network), `gateway6`, `dns`, `wifi`; `addresses` or `wifi` (or both).
    mutating func network(_ node: Node) -> Network? {
        let field = "server.network"
        guard let entries = mapping(node, field, keys: ["addresses", "gateway", "gateway6", "dns", "wifi"]) else { return nil }
        var ok = true
        var network = Network(addresses: [])
        func addresses(_ node: Node, _ field: String, prefixed: Bool) -> [InterfaceAddress]? {
            guard let items = sequence(node, field) else { return nil }
            var out: [InterfaceAddress] = []
            for (index, item) in items.enumerated() {
                guard let text = string(item, "\(field)[\(index)]", limit: .address) else { continue }
                do { out.append(try InterfaceAddress(parsing: text, prefixed: prefixed)) } catch { report(item, "\(field)[\(index)]", error.description) }
            }
            return out.count == items.count ? out : nil
        }
        if let wifiNode = entries["wifi"] {
            if let wifi = wifi(wifiNode) { network.wifi = wifi } else { ok = false }
        }
        if entries["addresses"] == nil, entries["wifi"] != nil {
            // Wi-Fi only: eth0 keeps DHCP.
        } else if let addressNode = required(entries, "addresses", in: node, field) {
            if let list = addresses(addressNode, "\(field).addresses", prefixed: true) {
                network.addresses = list
                if list.isEmpty {
                    report(addressNode, "\(field).addresses", "needs at least one address (192.168.1.50/24)")
                    ok = false
                }
            } else { ok = false }
        } else { ok = false }
        for (key, v6) in [("gateway", false), ("gateway6", true)] {
            guard let gatewayNode = entries[key], let text = string(gatewayNode, "\(field).\(key)", limit: .address) else {
                if entries[key] != nil { ok = false }
                continue
            }
            do {
                let gateway = try InterfaceAddress(parsing: text, prefixed: false)
                let family = network.addresses.filter { $0.isIPv6 == v6 }
                if gateway.isIPv6 != v6 {
                    report(gatewayNode, "\(field).\(key)", "\"\(text)\" is an \(gateway.isIPv6 ? "IPv6" : "IPv4") address; \(key) takes \(v6 ? "IPv6" : "IPv4") (\(v6 ? "gateway" : "gateway6") takes the other)")
                    ok = false
                } else if !family.isEmpty, !v6, !family.contains(where: { $0.contains(gateway) }) {
                    report(gatewayNode, "\(field).\(key)", "\(text) is not inside the network of any address in \(field).addresses (\(family.map(\.description).joined(separator: ", ")))")
                    ok = false
                } else if family.isEmpty, ok {
                    report(gatewayNode, "\(field).\(key)", "needs an \(v6 ? "IPv6" : "IPv4") address in \(field).addresses to route through")
                    ok = false
                } else if v6 { network.gateway6 = gateway } else { network.gateway = gateway }
            } catch {
                report(gatewayNode, "\(field).\(key)", error.description)
                ok = false
            }
        }
        if let dnsNode = entries["dns"] {
            if let list = addresses(dnsNode, "\(field).dns", prefixed: false) { network.dns = list } else { ok = false }
        }
        return ok ? network : nil
    }

    /// `server.network.wifi`: `ssid`, `psk` or `psk_file` (relative to the lab file), `country`.
    mutating func wifi(_ node: Node) -> WiFi? {
        let field = "server.network.wifi"
        guard let entries = mapping(node, field, keys: ["ssid", "psk", "psk_file", "country"]) else { return nil }
        var ok = true
        var ssid: String?
        if let ssidNode = required(entries, "ssid", in: node, field), let text = string(ssidNode, "\(field).ssid", limit: .ssid) {
            if text.isEmpty || text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                report(ssidNode, "\(field).ssid", "must be 1 to 32 bytes without control characters")
                ok = false
            } else { ssid = text }
        } else { ok = false }
        var psk: String?
        switch (entries["psk"], entries["psk_file"]) {
        case (let pskNode?, nil):
            if let text = string(pskNode, "\(field).psk", limit: .psk) {
                if let problem = WiFi.pskProblem(text) { report(pskNode, "\(field).psk", problem); ok = false } else { psk = text }
            } else { ok = false }
        case (nil, let fileNode?):
            guard let name = string(fileNode, "\(field).psk_file", limit: .path) else { ok = false; break }
            let path = name.hasPrefix("/") ? name : URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(name).path
            guard let bytes = Self.smallRegularFile(path), let text = String(validating: bytes, as: UTF8.self) else {
                report(fileNode, "\(field).psk_file", "\(path): cannot read it as a small text file (the passphrase or key on one line)")
                ok = false
                break
            }
            var line = text
            if line.hasSuffix("\n") { line.removeLast() }
            if line.hasSuffix("\r") { line.removeLast() }
            if let problem = WiFi.pskProblem(line) {
                report(fileNode, "\(field).psk_file", "\(path): \(problem)")
                ok = false
            } else { psk = line }
        case (_?, _?):
            report(entries["psk_file"], "\(field).psk_file", "give psk or psk_file, not both")
            ok = false
        case (nil, nil):
            report(node, "\(field)", "needs psk (the passphrase) or psk_file (a file holding it)")
            ok = false
        }
        var country: String?
        if let countryNode = required(entries, "country", in: node, field), let text = string(countryNode, "\(field).country", limit: .keyword) {
            if text.count == 2, text.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) { country = text } else {
                report(countryNode, "\(field).country", "\"\(text)\" is not a country code (two capital letters, ISO 3166: DE, GB, US)")
                ok = false
            }
        } else { ok = false }
        guard ok, let ssid, let psk, let country else { return nil }
        return WiFi(ssid: ssid, psk: psk, country: country)
    }

    /// The bytes of `path` when it is a regular file of at most 4 KiB, else nil. Opened
    /// non-blocking and checked on the descriptor, so a pipe or a device put there is refused
    /// instead of read (or waited on).
    static func smallRegularFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 4096 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0, count <= 4096 else { return nil }
        return Array(bytes.prefix(count))
    }

    mutating func moduleNames(_ node: Node, _ field: String) -> [String]? {
        guard let items = sequence(node, field) else { return nil }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = string(item, "\(field)[\(index)]", limit: .moduleName) else { continue }
            if text.range(of: #"^[A-Za-z0-9_-]{1,55}$"#, options: .regularExpression) != nil { out.append(text) } else {
                report(item, "\(field)[\(index)]", "\"\(text)\" is not a kernel module name")
            }
        }
        return out.count == items.count ? out : nil
    }

    mutating func client(_ node: Node, deviceCount: Int) -> Client? {
        let field = "client"
        guard let entries = mapping(node, field, keys: ["server", "ports"]) else { return nil }
        var ok = true
        var server: String?
        if let serverNode = entries["server"] {
            server = hostname(serverNode, "client.server", allowAddress: true)
            ok = server != nil
        }
        var ports = max(deviceCount, 1)
        if let portsNode = entries["ports"] {
            if let value = int(portsNode, "client.ports", range: 1...Capacity.maxClientPorts) { ports = value } else { ok = false }
        }
        return ok ? Client(server: server, ports: ports) : nil
    }

    /// A single DNS label such as the lab or device name: `[a-z0-9-]+`, no leading/trailing dash.
    mutating func hostLabel(_ node: Node, _ field: String) -> String? {
        guard let text = string(node, field, limit: .label) else { return nil }
        guard text.range(of: #"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"#, options: .regularExpression) != nil else {
            report(node, field, "\"\(text)\" must be lowercase letters, digits and '-' (not at either end), at most 63")
            return nil
        }
        return text
    }

    mutating func hostname(_ node: Node, _ field: String, allowAddress: Bool = false) -> String? {
        guard let text = string(node, field, limit: .hostname) else { return nil }
        if allowAddress, (try? CIDR(parsing: text)) != nil, !text.contains("/") { return text }
        let label = #"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"#
        guard text.count <= 253, text.range(of: "^\(label)(\\.\(label))*$", options: .regularExpression) != nil else {
            report(node, field, "\"\(text)\" is not a valid host name")
            return nil
        }
        return text
    }
}
