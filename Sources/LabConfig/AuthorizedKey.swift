import Foundation

/// One line of OpenSSH's authorized_keys, checked the way sshd(8) reads it:
///
///     [OPTIONS ]TYPE BASE64[ COMMENT]
///     from="10.0.0.0/8",no-agent-forwarding ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... alice@lab
///
/// OPTIONS is a comma-separated list of `name` or `name="value"` (a value may hold commas and
/// spaces; `\"` is a quote in it). BASE64 must decode, and the key blob starts with its type as
/// an SSH string (uint32 length, then the name), which must be TYPE.
public enum AuthorizedKey {
    public static let keyTypes: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// sshd(8) "AUTHORIZED_KEYS FILE FORMAT", compared without case.
    public static let optionNames: Set<String> = [
        "agent-forwarding", "cert-authority", "command", "environment", "expiry-time", "from",
        "no-agent-forwarding", "no-port-forwarding", "no-pty", "no-user-rc", "no-x11-forwarding",
        "permitlisten", "permitopen", "port-forwarding", "principals", "pty", "no-touch-required",
        "verify-required", "restrict", "tunnel", "user-rc", "x11-forwarding",
    ]
    static let valued: Set<String> = ["command", "environment", "expiry-time", "from", "permitlisten", "permitopen", "principals", "tunnel"]

    /// Why `line` is not a key sshd would accept; nil when it is.
    public static func problem(in line: String) -> String? {
        if line.contains("\n") || line.contains("\r") { return "must be one line" }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = fields.first else { return "is empty" }
        var rest = Substring(line.drop { $0 == " " })
        if !keyTypes.contains(String(first)) {
            if first.contains("=") || optionNames.contains(first.lowercased()) || first.contains(",") {
                if case .failure(let error) = options(&rest) { return error.message }
            } else {
                return "key type \"\(first.prefix(40))\" is not one of \(keyTypes.sorted().joined(separator: ", "))"
            }
        }
        let keyFields = rest.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard keyFields.count >= 2 else { return "has no key after its type (\"ssh-ed25519 AAAA... comment\")" }
        let type = String(keyFields[0])
        guard keyTypes.contains(type) else {
            return "key type \"\(type.prefix(40))\" is not one of \(keyTypes.sorted().joined(separator: ", "))"
        }
        guard let blob = Data(base64Encoded: String(keyFields[1])) else { return "the \(type) key is not valid base64" }
        let bytes = [UInt8](blob)
        guard bytes.count >= 4 else { return "the \(type) key is too short to hold a key" }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard length <= bytes.count - 4 else { return "the \(type) key's data is cut short" }
        let inner = String(decoding: bytes[4..<(4 + length)], as: UTF8.self)
        guard inner == type else { return "the key's data is a \"\(inner.prefix(40))\" key, but the line says \(type)" }
        guard bytes.count > 4 + length + 8 else { return "the \(type) key's data is cut short" }
        return nil
    }

    /// Consumes `OPTIONS ` from the front of `text`.
    static func options(_ text: inout Substring) -> Result<Void, OptionError> {
        while true {
            let name = text.prefix { $0 != "=" && $0 != "," && $0 != " " }
            guard !name.isEmpty else { return .failure(OptionError("has an empty option before the key type")) }
            guard optionNames.contains(name.lowercased()) else {
                return .failure(OptionError("option \"\(name.prefix(40))\" is not an authorized_keys option (sshd(8))"))
            }
            text = text.dropFirst(name.count)
            if text.first == "=" {
                text = text.dropFirst()
                guard text.first == "\"" else { return .failure(OptionError("option \(name)= needs a quoted value (\(name)=\"...\")")) }
                text = text.dropFirst()
                var closed = false
                while let c = text.first {
                    text = text.dropFirst()
                    if c == "\\", text.first == "\"" { text = text.dropFirst(); continue }
                    if c == "\"" { closed = true; break }
                }
                guard closed else { return .failure(OptionError("option \(name)= has no closing quote")) }
            } else if valued.contains(name.lowercased()) {
                return .failure(OptionError("option \(name) needs a value (\(name)=\"...\")"))
            }
            switch text.first {
            case ",": text = text.dropFirst()
            case " ": text = text.drop { $0 == " " }; return .success(())
            default: return .failure(OptionError("the options end without a key after them"))
            }
        }
    }

    struct OptionError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
