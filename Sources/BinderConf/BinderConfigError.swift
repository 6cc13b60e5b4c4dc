/// A binder.conf line that `BinderConfig.parse` refuses: its 1-based number and what is wrong.
public struct BinderConfigError: Error, Equatable, CustomStringConvertible {
    public enum Problem: Error, Equatable {
        case lineTooLong
        case notUTF8
        case unknownDirective(String)
        /// Too few or too many words after the directive.
        case arguments(String)
        case repeated(String, firstLine: Int)
        case badPort(String)
        case badDeadPeerTimeout(String)
        case badCIDR(String, CIDRError)
        case badDeviceName(String)
        case badDeviceID(String)
        case badDeviceOption(String)
    }

    public let line: Int
    public let problem: Problem

    public init(line: Int, problem: Problem) {
        self.line = line
        self.problem = problem
    }

    /// The problem as usbip-binder prints it after `PATH:LINE: `.
    public var message: String {
        switch problem {
        case .lineTooLong: "line longer than \(BinderConfig.maxLineBytes) bytes"
        case .notUTF8: "not UTF-8 text"
        case .unknownDirective(let d): "unknown directive '\(d)'"
        case .arguments("port"): "'port' takes one number"
        case .arguments("dead_peer_timeout"): "'dead_peer_timeout' takes one number of seconds"
        case .arguments("allow"): "'allow' takes one CIDR"
        case .arguments("device"): "'device' needs NAME VID:PID"
        case .arguments(let d): "wrong arguments for '\(d)'"
        case .repeated(let d, let first): "'\(d)' repeated (first on line \(first))"
        case .badPort(let p): "bad port '\(p)' (1-65535)"
        case .badDeadPeerTimeout(let t): "bad dead_peer_timeout '\(t)' (seconds, \(BinderConfig.deadPeerTimeoutRangeText))"
        case .badCIDR(let c, .hostBitsSet): "bad CIDR '\(c)' (host bits set after the prefix)"
        case .badCIDR(let c, _): "bad CIDR '\(c)'"
        case .badDeviceName(let n): "bad device name '\(n)' ([a-z0-9-]+)"
        case .badDeviceID(let i): "bad id '\(i)' (vid:pid, lowercase hex)"
        case .badDeviceOption(let o): "bad device option '\(o)' (serial=S or port=P, each once)"
        }
    }

    /// `line N: message`.
    public var description: String { "line \(line): \(message)" }
}
