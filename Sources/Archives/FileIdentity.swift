#if canImport(Glibc)
import Glibc
#endif

/// Whether two paths name the same file, whatever symlinks, `..` or hard links lie between
/// them: the check every verb makes between what it reads and what it writes, before it opens
/// anything for writing.
///
/// - Both exist: the same (device, inode) after following symlinks, or two device nodes for
///   the same device (`/dev/sdb` and `/dev/disk/by-id/usb-...`).
/// - One does not exist yet: the same path once the existing part of each is resolved
///   (`realpath`) and the rest appended (`samelink/new.img` and `same/new.img`).
public enum FileIdentity {
    /// True when `a` and `b` are, or would become, the same file.
    public static func same(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        if stat(a, &first) == 0, stat(b, &second) == 0 {
            if first.st_dev == second.st_dev && first.st_ino == second.st_ino { return true }
            let blockOrChar = { (mode: mode_t) in mode & S_IFMT == S_IFBLK || mode & S_IFMT == S_IFCHR }
            return blockOrChar(first.st_mode) && first.st_mode & S_IFMT == second.st_mode & S_IFMT
                && first.st_rdev == second.st_rdev
        }
        return resolvedPath(a) == resolvedPath(b)
    }

    /// `path` made absolute with its longest existing prefix resolved by `realpath` (symlinks,
    /// `.` and `..`) and the components that do not exist yet appended as they are.
    public static func resolvedPath(_ path: String) -> String {
        var components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var rest: [String] = []
        let absolute = path.hasPrefix("/")
        while true {
            let prefix = (absolute ? "/" : "") + components.joined(separator: "/")
            let candidate = prefix.isEmpty ? "." : prefix
            if let resolved = realpath(candidate, nil) {
                defer { free(resolved) }
                let base = String(cString: resolved)
                // What does not exist cannot be a symlink: `.` and `..` there are plain text.
                var parts = base.split(separator: "/").map(String.init)
                for part in rest where part != "." {
                    if part == ".." { _ = parts.popLast() } else { parts.append(part) }
                }
                return "/" + parts.joined(separator: "/")
            }
            guard let last = components.popLast() else { return path }
            rest.insert(last, at: 0)
        }
    }

    /// The first of `inputs` that writing `output` would destroy: `output` itself (by
    /// identity), or, when `output` is a directory that gets replaced whole, anything inside it.
    public static func inputDestroyed(by output: String, replacingDirectory: Bool, inputs: [String]) -> String? {
        let outputPath = resolvedPath(output)
        return inputs.first { input in
            same(input, output) || (replacingDirectory && resolvedPath(input).hasPrefix(outputPath == "/" ? "/" : outputPath + "/"))
        }
    }
}
