import SystemIO
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
    ///
    /// The destination's directory is created first when missing, parents included (every verb
    /// that writes does so, like `mkdir -p`); when that fails, ``AtomicOutputError/noDirectory(_:_:_:)``
    /// names the directory and the reason.
    public func commit<T>(_ write: (String) throws -> T) throws -> T {
        try createDirectory()
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

    /// Creates the directory the destination goes into, and its missing parents.
    public func createDirectory() throws {
        // As the user gave it (relative stays relative), for the message.
        let parent = PathText.parent(of: destination)
        let directory = parent.isEmpty ? "." : parent
        if let reason = Self.makeDirectories(directory) {
            throw AtomicOutputError.noDirectory(destination, directory, reason)
        }
    }

    /// `mkdir -p`: nil when `path` is a directory afterwards, else why not (strerror's text).
    static func makeDirectories(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            return info.st_mode & S_IFMT == S_IFDIR ? nil : String(cString: strerror(ENOTDIR))
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if parent != path, let reason = makeDirectories(parent) { return reason }
        guard mkdir(path, 0o777) == 0 || errno == EEXIST else { return String(cString: strerror(errno)) }
        return nil
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
    /// The destination's directory could not be created: destination, directory, reason.
    case noDirectory(String, String, String)

    public var description: String {
        switch self {
        case .noDirectory(let path, let directory, let reason):
            "\(path): cannot write the output: cannot create its directory \(directory): \(reason)"
        case .rename(let path, let reason): "\(path): cannot move the finished output into place: \(reason)"
        }
    }
}
