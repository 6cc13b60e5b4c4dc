import Archives
import Foundation

extension Overlay {
    /// Writes the overlay as a tarball (compressed by the suffix of `path`), entries in path
    /// order, every mtime `mtime`: the same overlay always gives the same bytes. Atomic.
    public func writeTarball(to path: String, mtime: Int64) throws {
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
    public func writeDirectory(to path: String, mtime: Int64) throws {
        try AtomicOutput(destination: path).commit { temporary in
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            let asRoot = geteuid() == 0
            for entry in entries {
                let target = temporary + "/" + entry.path
                switch entry.content {
                case .directory:
                    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
                case .file(let bytes):
                    guard FileManager.default.createFile(atPath: target, contents: Data(bytes)) else {
                        throw OverlayWriteError.create(target, String(cString: strerror(errno)))
                    }
                case .symlink(let link):
                    try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: link)
                }
                if asRoot, lchown(target, entry.uid, entry.gid) != 0 {
                    throw OverlayWriteError.create(target, String(cString: strerror(errno)))
                }
            }
            // Modes and times last, deepest first, so a read-only directory is still filled.
            for entry in entries.reversed() {
                let target = temporary + "/" + entry.path
                if case .symlink = entry.content { continue }
                guard chmod(target, mode_t(entry.mode)) == 0 else {
                    throw OverlayWriteError.create(target, String(cString: strerror(errno)))
                }
                var times = [timespec(tv_sec: Int(mtime), tv_nsec: 0), timespec(tv_sec: Int(mtime), tv_nsec: 0)]
                utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW)
            }
        }
    }
}

public enum OverlayWriteError: Error, CustomStringConvertible {
    case create(String, String)

    public var description: String {
        switch self {
        case .create(let path, let reason): "\(path): \(reason)"
        }
    }
}
