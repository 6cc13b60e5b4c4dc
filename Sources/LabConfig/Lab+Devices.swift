import Foundation
import Yams

extension YAMLReader {
    mutating func devices(_ node: Node) -> [Device]? {
        guard let items = sequence(node, "devices") else { return nil }
        if items.isEmpty {
            report(node, "devices", "needs at least one board")
            return nil
        }
        var out: [Device] = []
        for (index, item) in items.enumerated() {
            if let device = device(item, "devices[\(index)]") { out.append(device) }
        }
        return out.count == items.count ? out : nil
    }

    mutating func device(_ node: Node, _ field: String) -> Device? {
        guard let entries = mapping(node, field, keys: ["name", "vendor", "product", "serial", "port", "also"])
        else { return nil }
        let name = required(entries, "name", in: node, field).flatMap { hostLabel($0, "\(field).name") }
        let id = usbID(entries, in: node, field)
        var ok = true
        var serial: String?
        if let serialNode = entries["serial"] {
            serial = string(serialNode, "\(field).serial", limit: .serial)
            if let text = serial, text.isEmpty || !text.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && !"\"\\*?".unicodeScalars.contains($0) }) {
                report(serialNode, "\(field).serial", "\"\(text)\" must be printable ASCII without spaces, quotes, backslashes or wildcards")
                serial = nil
            }
            ok = ok && serial != nil
        }
        var port: String?
        if let portNode = entries["port"] {
            port = string(portNode, "\(field).port", limit: .port)
            if let text = port, text.range(of: #"^[0-9]+-[0-9]+(\.[0-9]+)*$"#, options: .regularExpression) == nil {
                report(portNode, "\(field).port", "\"\(text)\" is not a USB port path like 1-1.3")
                port = nil
            }
            ok = ok && port != nil
        }
        var also: [USBID] = []
        if let alsoNode = entries["also"] {
            if let items = sequence(alsoNode, "\(field).also") {
                for (index, item) in items.enumerated() {
                    let path = "\(field).also[\(index)]"
                    guard let pair = mapping(item, path, keys: ["vendor", "product"]) else { ok = false; continue }
                    if let extra = usbID(pair, in: item, path) { also.append(extra) } else { ok = false }
                }
            } else { ok = false }
        }
        guard ok, let name, let id else { return nil }
        return Device(name: name, id: id, serial: serial, port: port, also: also)
    }

    mutating func usbID(_ entries: [String: Node], in parent: Node, _ field: String) -> USBID? {
        let vendor = required(entries, "vendor", in: parent, field).flatMap { hex4($0, "\(field).vendor") }
        let product = required(entries, "product", in: parent, field).flatMap { hex4($0, "\(field).product") }
        guard let vendor, let product else { return nil }
        return USBID(vendor: vendor, product: product)
    }

    /// Four hex digits, given as a quoted string: YAML reads `0403` as the octal number 259 and
    /// `6010` as a decimal, so an unquoted ID would silently change.
    mutating func hex4(_ node: Node, _ field: String) -> String? {
        guard case .scalar(let scalar) = node else { return string(node, field, limit: .keyword) }
        let resolved = node.tag.rawValue
        if scalar.style == .plain, resolved == Tag.Name.int.rawValue || resolved == Tag.Name.float.rawValue {
            report(node, field, "\(scalar.string) is a YAML number; quote it: \"\(scalar.string)\"")
            return nil
        }
        guard let text = string(node, field, limit: .keyword) else { return nil }
        guard USBID.isHex4(text) else {
            report(node, field, "\"\(text)\" is not 4 hex digits")
            return nil
        }
        return text.lowercased()
    }
}

extension YAMLReader {
    /// Checks across fields: unique names, no two devices with the same match, capacity.
    mutating func validate(_ lab: Lab, root: Node) {
        let deviceNodes = root["devices"]?.array() ?? []
        func node(_ index: Int, _ key: String? = nil) -> Node? {
            guard index < deviceNodes.count else { return root["devices"] }
            guard let key else { return deviceNodes[index] }
            return deviceNodes[index][key] ?? deviceNodes[index]
        }
        var firstByName: [String: Int] = [:]
        var firstByMatch: [String: Int] = [:]
        for (index, device) in lab.devices.enumerated() {
            if let first = firstByName[device.name] {
                report(node(index, "name"), "devices[\(index)].name", "\"\(device.name)\" is already the name of devices[\(first)]")
            } else {
                firstByName[device.name] = index
            }
            for id in device.ids {
                let key = "\(id) serial=\(device.serial ?? "*") port=\(device.port ?? "*")"
                if let first = firstByMatch[key], first != index {
                    report(node(index), "devices[\(index)]", "matches the same boards as devices[\(first)] (\(id)); add serial: or port: to tell them apart")
                } else {
                    firstByMatch[key] = index
                }
            }
        }
        for finding in Capacity.check(lab) {
            let anchor: Node?
            switch finding.field {
            case "client.ports": anchor = root["client"]?["ports"] ?? root["client"]
            case "server.allow": anchor = root["server"]?["allow"] ?? root["server"]
            case "server.dead_peer_timeout": anchor = root["server"]?["dead_peer_timeout"] ?? root["server"]
            default: anchor = root["devices"]
            }
            report(anchor, finding.field, finding.message, severity: finding.severity)
        }
    }
}
