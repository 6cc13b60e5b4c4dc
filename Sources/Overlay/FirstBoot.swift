import BootFiles
import Digests
import LabConfig
import Yams

public enum FirstBootError: Error, Equatable, CustomStringConvertible {
    case userData(String)
    case networkConfig(String)
    case noNetworkStack
    case wifiNeedsNetworkManager

    public var description: String {
        switch self {
        case .wifiNeedsNetworkManager: "server.network.wifi: the image has systemd-networkd but neither NetworkManager nor cloud-init; fpga-lab configures Wi-Fi through those two only"
        case .userData(let reason): "user-data on the boot partition: \(reason)"
        case .networkConfig(let reason): "network-config on the boot partition: \(reason)"
        case .noNetworkStack: "server.network: the image has neither NetworkManager nor systemd-networkd (nor cloud-init) to apply the address with"
        }
    }
}

/// The cloud-init NoCloud seed on bootfs (cloud-init's docs: NoCloud; network config v2).
public enum CloudInitSeed {
    /// The part of user-data fpga-lab adds for `server.ssh` (Raspberry Pi Imager 2.x writes the
    /// same `user:` shape): the default user, renamed or created with a login shell, keys only.
    static func sshPart(_ ssh: SSH, lab: String, withPasswordAuth: Bool) -> String {
        var text = "# fpga-lab \(lab): key-only ssh login for \(ssh.user) (server.ssh)\n"
        text += "user:\n  name: \(ssh.user)\n  shell: \(Passwd.loginShell)\n  lock_passwd: true\n  ssh_authorized_keys:\n"
        for key in ssh.authorizedKeys { text += "    - \(quoted(key))\n" }
        if withPasswordAuth { text += "ssh_pwauth: false\n" }
        return text
    }

    /// `existing` user-data with the `server.ssh` part added; the admin's bytes are kept as they
    /// are, ours come after them and the result is parsed again to prove both are in it.
    public static func userData(merging existing: [UInt8]?, ssh: SSH, lab: String) throws(FirstBootError) -> [UInt8] {
        let header = "#cloud-config\n"
        guard let existing, !existing.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 }) else {
            return Array((header + sshPart(ssh, lab: lab, withPasswordAuth: true)).utf8)
        }
        guard let text = String(validating: existing, as: UTF8.self) else { throw .userData("is not UTF-8 text") }
        // cloud-init reads the file as cloud-config only when it starts with this line.
        guard text.hasPrefix("#cloud-config") else {
            throw .userData("does not start with #cloud-config (a script, an #include, MIME, or a blank line first); fpga-lab can only add server.ssh to #cloud-config: make that its first line or remove server.ssh")
        }
        let admin: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) else { return try merged(text, [:], ssh, lab) }
            guard let mapping = loaded as? [String: Any] else { throw FirstBootError.userData("is not a mapping of cloud-config keys") }
            admin = mapping
        } catch let error as FirstBootError {
            throw error
        } catch {
            throw .userData("is not valid YAML (\(error)); fix it or remove server.ssh")
        }
        if let user = admin["user"] {
            let name = (user as? [String: Any])?["name"] as? String ?? (user as? String) ?? "?"
            throw .userData("already sets `user:` (\(name)); server.ssh would set it to \(ssh.user): keep one of them")
        }
        return try merged(text, admin, ssh, lab)
    }

    private static func merged(_ text: String, _ admin: [String: Any], _ ssh: SSH, _ lab: String) throws(FirstBootError) -> [UInt8] {
        let ours = sshPart(ssh, lab: lab, withPasswordAuth: admin["ssh_pwauth"] == nil)
        let result = (text.hasSuffix("\n") ? text : text + "\n") + ours
        let reparsed = (try? Yams.load(yaml: result)) as? [String: Any]
        guard let reparsed, reparsed.count == admin.count + (admin["ssh_pwauth"] == nil ? 2 : 1),
              admin.allSatisfy({ key, value in reparsed[key].map { same($0, value) } ?? false }),
              (reparsed["user"] as? [String: Any])?["name"] as? String == ssh.user else {
            throw .userData("its YAML does not end where fpga-lab can append server.ssh (a flow mapping or a document end marker?): write it as block YAML, or remove server.ssh")
        }
        return Array(result.utf8)
    }

    /// Whether two values Yams loaded are equal: mappings key by key (their order in memory is
    /// not fixed), sequences item by item, scalars by their text.
    static func same(_ a: Any, _ b: Any) -> Bool {
        func mapping(_ value: Any) -> [String: Any]? {
            if let dictionary = value as? [String: Any] { return dictionary }
            if let dictionary = value as? [AnyHashable: Any] {
                return Dictionary(dictionary.map { ("\($0.key)", $0.value) }, uniquingKeysWith: { first, _ in first })
            }
            return nil
        }
        if let x = mapping(a), let y = mapping(b) {
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        }
        if let x = a as? [Any], let y = b as? [Any] {
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        }
        return "\(type(of: a))" == "\(type(of: b))" && "\(a)" == "\(b)"
    }

    /// `existing` meta-data with its `instance-id` (or pi-gen's misspelt `instance_id`) replaced
    /// by `id`, so cloud-init sees a new instance and runs its per-instance modules again.
    public static func metaData(_ existing: [UInt8]?, instanceID id: String) -> [UInt8] {
        guard let existing else { return Array("instance-id: \(id)\ndsmode: local\n".utf8) }
        let lines = String(decoding: existing, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let kept = lines.filter { line in
            let trimmed = line.drop { $0 == " " }
            return !(trimmed.hasPrefix("instance-id:") || trimmed.hasPrefix("instance_id:"))
        }
        return Array(("instance-id: \(id)\n" + kept.joined(separator: "\n")).utf8)
    }

    /// The instance-id for a seed: fixed by what it holds, so the same lab and base give the
    /// same image, and a different seed is a new instance.
    public static func instanceID(userData: [UInt8]?, networkConfig: [UInt8]?) -> String {
        var bytes = userData ?? []
        bytes += [0] + (networkConfig ?? [])
        return "fpga-lab-" + Manifest.sha256Hex(bytes).prefix(16)
    }

    /// network-config (version 2) for `server.network`; refuses to replace one that configures
    /// anything (pi-gen's holds only comments).
    public static func networkConfig(_ network: Network, lab: String, existing: [UInt8]?) throws(FirstBootError) -> [UInt8] {
        if let existing, !existing.isEmpty {
            let loaded = try? Yams.load(yaml: String(decoding: existing, as: UTF8.self))
            if loaded != nil {
                throw .networkConfig("already configures the network; fpga-lab does not merge server.network into it: remove one of them")
            }
        }
        let v4 = network.addresses.filter { !$0.isIPv6 }, v6 = network.addresses.filter(\.isIPv6)
        var text = "# fpga-lab \(lab): server.network\nnetwork:\n  version: 2\n"
        if let wifi = network.wifi {
            text += "  wifis:\n    \(WiFi.interface):\n      dhcp4: true\n      optional: true\n      regulatory-domain: \(quoted(wifi.country))\n"
            text += "      access-points:\n        \(quoted(wifi.ssid)):\n          password: \(quoted(WiredNetworkFiles.psk(wifi)))\n"
        }
        guard !network.addresses.isEmpty else { return Array(text.utf8) }
        text += "  ethernets:\n    \(Network.wiredInterface):\n"
        text += "      dhcp4: \(v4.isEmpty)\n"
        if !v6.isEmpty { text += "      dhcp6: false\n" }
        text += "      addresses:\n" + network.addresses.map { "        - \(quoted($0.description))\n" }.joined()
        let routes = [network.gateway.map { ("0.0.0.0/0", $0) }, network.gateway6.map { ("::/0", $0) }].compactMap { $0 }
        if !routes.isEmpty {
            text += "      routes:\n" + routes.map { "        - to: \(quoted($0.0))\n          via: \(quoted($0.1.description))\n" }.joined()
        }
        if !network.dns.isEmpty {
            text += "      nameservers:\n        addresses:\n" + network.dns.map { "          - \(quoted($0.description))\n" }.joined()
        }
        return Array(text.utf8)
    }

    /// A YAML double-quoted scalar.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// The wired port's fixed address for images without cloud-init.
public enum WiredNetworkFiles {
    /// A NetworkManager keyfile (nm-settings-keyfile(5)); NetworkManager ignores it unless it is
    /// root's and mode 0600.
    public static let keyfilePath = "etc/NetworkManager/system-connections/fpga-lab-\(Network.wiredInterface).nmconnection"
    /// A systemd-networkd unit, sorted before the image's own so it wins for eth0.
    public static let networkdPath = "etc/systemd/network/05-fpga-lab-\(Network.wiredInterface).network"

    /// A connection's UUID, fixed by the lab and the interface (the same lab, the same image).
    static func uuid(_ lab: String, _ interface: String) -> String {
        let u = Array(Manifest.sha256Hex(Array("fpga-lab \(lab) \(interface)".utf8)))
        return "\(String(u[0..<8]))-\(String(u[8..<12]))-4\(String(u[13..<16]))-a\(String(u[17..<20]))-\(String(u[20..<32]))"
    }

    public static func keyfile(_ network: Network, lab: String) -> String {
        var text = "# fpga-lab \(lab): server.network\n[connection]\nid=fpga-lab-\(Network.wiredInterface)\nuuid=\(uuid(lab, Network.wiredInterface))\n"
        text += "type=ethernet\ninterface-name=\(Network.wiredInterface)\nautoconnect=true\nautoconnect-priority=100\n\n[ethernet]\n"
        for v6 in [false, true] {
            let addresses = network.addresses.filter { $0.isIPv6 == v6 }
            let dns = network.dns.filter { $0.isIPv6 == v6 }
            text += "\n[\(v6 ? "ipv6" : "ipv4")]\nmethod=\(addresses.isEmpty ? "auto" : "manual")\n"
            for (index, address) in addresses.enumerated() { text += "address\(index + 1)=\(address)\n" }
            if let gateway = v6 ? network.gateway6 : network.gateway { text += "gateway=\(gateway)\n" }
            if !dns.isEmpty { text += "dns=\(dns.map(\.description).joined(separator: ";"));\n" }
        }
        return text
    }

    /// The Wi-Fi keyfile (type wifi, WPA-PSK, DHCP), root's and 0600 like the wired one.
    public static let wifiKeyfilePath = "etc/NetworkManager/system-connections/fpga-lab-\(WiFi.interface).nmconnection"

    /// The 64-hex pre-shared key: the passphrase never lands in the image.
    static func psk(_ wifi: WiFi) -> String {
        wifi.psk.utf8.count == 64 ? wifi.psk.lowercased() : WPAPassphrase.psk(passphrase: wifi.psk, ssid: Array(wifi.ssid.utf8))
    }

    public static func wifiKeyfile(_ wifi: WiFi, lab: String) -> String {
        // A keyfile value is a string unless it reads as a list: an SSID with anything but these
        // characters is written as its bytes (`ssid=104;105;`), which NetworkManager also reads.
        let plain = wifi.ssid.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || " _.-".unicodeScalars.contains($0)) }
            && !wifi.ssid.hasPrefix(" ") && !wifi.ssid.hasSuffix(" ")
        let ssid = plain ? wifi.ssid : wifi.ssid.utf8.map { "\($0);" }.joined()
        var text = "# fpga-lab \(lab): server.network.wifi\n[connection]\nid=fpga-lab-\(WiFi.interface)\nuuid=\(uuid(lab, WiFi.interface))\n"
        text += "type=wifi\ninterface-name=\(WiFi.interface)\nautoconnect=true\n\n[wifi]\nmode=infrastructure\nssid=\(ssid)\n\n"
        text += "[wifi-security]\nkey-mgmt=wpa-psk\npsk=\(psk(wifi))\n\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n"
        return text
    }

    /// pi-gen's NetworkManager.state with the radio allowed on (`WirelessEnabled=true`); nil when
    /// there is nothing to change.
    public static func enablingWireless(_ state: [UInt8]?) -> [UInt8]? {
        guard let state else { return nil }
        let text = String(decoding: state, as: UTF8.self)
        guard text.contains("WirelessEnabled=false") else { return nil }
        return Array(text.replacingOccurrences(of: "WirelessEnabled=false", with: "WirelessEnabled=true").utf8)
    }

    public static func networkdUnit(_ network: Network, lab: String) -> String {
        var text = "# fpga-lab \(lab): server.network\n[Match]\nName=\(Network.wiredInterface)\n\n[Network]\n"
        if !network.addresses.contains(where: { !$0.isIPv6 }) { text += "DHCP=ipv4\n" }
        for address in network.addresses { text += "Address=\(address)\n" }
        for gateway in [network.gateway, network.gateway6].compactMap({ $0 }) { text += "Gateway=\(gateway)\n" }
        for server in network.dns { text += "DNS=\(server)\n" }
        return text
    }
}
