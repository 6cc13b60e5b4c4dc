import Archives
import Foundation
import SystemIO

extension Overlay {
    /// Writes the overlay as a tarball (compressed by the suffix of `path`), entries in path
    /// order, every mtime `mtime`: the same overlay always gives the same bytes. Atomic.
    /// Refused when `path` is one of `inputs` (the files the run read), by identity.
    public func writeTarball(to path: String, mtime: Int64, inputs: [String] = []) throws {
        if let input = FileIdentity.inputDestroyed(by: path, replacingDirectory: false, inputs: inputs) {
            throw OverlayWriteError.inputInOutput(path, input)
        }
        try AtomicOutput(destination: path).commit { temporary in
            let writer = try TarWriter(path: temporary, compression: Compression.forPath(path))
            for entry in entries {
                let content: TarWriter.Entry = switch entry.content {
                case .directory: .directory
                case .file(let bytes): .file(bytes)
                case .symlink(let target): .symlink(target)
                }
                try writer.add(path: entry.path, content, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: mtime)
            }
            try writer.finish()
        }
    }

    /// Writes the overlay as a directory tree with its modes and symlinks (and owners when run
    /// as root), replacing `path` atomically.
    ///
    /// Nothing is written through a symlink: the tree is built in a new directory whose
    /// files are created `O_EXCL | O_NOFOLLOW` (and ``Overlay/add(_:)`` keeps entries from
    /// sitting below the overlay's own symlinks); a `path` that is itself a symlink is
    /// refused rather than replaced or followed.
    ///
    /// What `path` holds is gone once it is replaced, so an existing directory is replaced only
    /// when it is empty or an earlier output of the same kind (it holds `marker`, a file every
    /// such output has), and never when one of `inputs` lies inside it.
    public func writeDirectory(to path: String, mtime: Int64, marker: String, inputs: [String] = []) throws {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
            throw OverlayWriteError.symlinkOutput(path, target)
        }
        if let input = FileIdentity.inputDestroyed(by: path, replacingDirectory: true, inputs: inputs) {
            throw OverlayWriteError.inputInOutput(path, input)
        }
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw OverlayWriteError.notADirectory(path) }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            var markerInfo = stat()
            if !contents.isEmpty, lstat(path + "/" + marker, &markerInfo) != 0 || markerInfo.st_mode & S_IFMT != S_IFREG {
                throw OverlayWriteError.foreignDirectory(path, marker)
            }
        }
        try AtomicOutput(destination: path).commit { temporary in
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            let asRoot = geteuid() == 0
            for entry in entries {
                let target = temporary + "/" + entry.path
                switch entry.content {
                case .directory:
                    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
                case .file(let bytes):
                    try Self.createFile(target, bytes)
                case .symlink(let link):
                    try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: link)
                }
                if asRoot, lchown(target, entry.uid, entry.gid) != 0 {
                    throw OverlayWriteError.create(target, .current)
                }
            }
            // Modes and times last, deepest first, so a read-only directory is still filled.
            for entry in entries.reversed() {
                let target = temporary + "/" + entry.path
                if case .symlink = entry.content { continue }
                guard chmod(target, mode_t(entry.mode)) == 0 else {
                    throw OverlayWriteError.create(target, .current)
                }
                var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
                utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW)
            }
        }
    }
}

extension Overlay {
    /// Creates a new file (never an existing one, never through a symlink) holding `bytes`.
    static func createFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OverlayWriteError.create(path, .current) }
        defer { close(fd) }
        do {
            try FileIO.write(fd, bytes)
        } catch {
            throw OverlayWriteError.create(path, error.errno)
        }
    }
}

public enum OverlayWriteError: Error, CustomStringConvertible {
    case create(String, Errno)
    /// The output directory given is a symlink (to `target`).
    case symlinkOutput(String, String)
    /// Writing the output (first) would destroy an input of the run (second).
    case inputInOutput(String, String)
    /// The output directory exists, holds files and is not an earlier output (lacks the marker).
    case foreignDirectory(String, String)
    case notADirectory(String)

    public var description: String {
        switch self {
        case .create(let path, let errno): "\(path): \(errno)"
        case .symlinkOutput(let path, let target):
            "\(path): is a symlink (-> \(target)); give the directory itself: fpga-lab replaces it and never writes through a symlink"
        case .inputInOutput(let path, let input):
            "\(path): writing the output would destroy \(input), which this run reads; give another output"
        case .foreignDirectory(let path, let marker):
            "\(path): exists and holds files but is not an earlier output (no \(marker)); fpga-lab replaces the whole directory, so give a new or empty one"
        case .notADirectory(let path):
            "\(path): exists and is not a directory"
        }
    }
}
