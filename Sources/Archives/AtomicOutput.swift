import Foundation

/// A file or directory written under a temporary name beside its destination and renamed into
/// place only when complete, so a failure never leaves a half-written output behind.
public struct AtomicOutput: Sendable {
    public let destination: String
    /// Where the content is written meanwhile: `.NAME.partial-PID` in the same directory.
    public let temporary: String

    public init(destination: String) {
        self.destination = destination
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        temporary = directory + "/." + url.lastPathComponent + ".partial-\(getpid())"
    }

    /// Runs `write` on the temporary path and renames the result onto the destination
    /// (replacing an earlier output); removes the temporary on any error, and first the
    /// temporaries of killed runs.
    public func commit<T>(_ write: (String) throws -> T) throws -> T {
        removeStale()
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            let result = try write(temporary)
            try publish()
            return result
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Moves the finished temporary onto the destination (a directory replaces a directory).
    public func publish() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory), isDirectory.boolValue {
            let old = temporary + ".old"
            try FileManager.default.moveItem(atPath: destination, toPath: old)
            try FileManager.default.moveItem(atPath: temporary, toPath: destination)
            try? FileManager.default.removeItem(atPath: old)
        } else if rename(temporary, destination) != 0 {
            throw AtomicOutputError.rename(destination, String(cString: strerror(errno)))
        }
    }

    /// Removes temporaries that runs killed before they finished left beside the destination
    /// (`.NAME.partial-PID*` whose process is gone, or whose PID now belongs to another
    /// program). Symlinks among them are removed, never followed.
    public func removeStale() {
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".partial-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(prefix) {
            let pid = Int32(name.dropFirst(prefix.count).prefix(while: \.isNumber)) ?? 0
            let alive = pid == getpid() || (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) && Self.runsThisProgram(pid))
            if alive { continue }
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}

extension AtomicOutput {
    /// Whether process `pid` runs the same executable as this one; true when that cannot be
    /// told (another user's process), so a live run's temporary is never taken for stale.
    static func runsThisProgram(_ pid: Int32) -> Bool {
        guard let other = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") else { return true }
        guard let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return true }
        return other == own
    }
}

public enum AtomicOutputError: Error, CustomStringConvertible {
    case rename(String, String)

    public var description: String {
        switch self {
        case .rename(let path, let reason): "\(path): cannot move the finished output into place: \(reason)"
        }
    }
}
