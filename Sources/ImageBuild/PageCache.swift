import DiskFormats
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Hints to the kernel about files written once and not read again soon. Best effort: a file
/// that cannot be opened is left alone.
enum PageCache {
    /// Starts writing the file's dirty pages to disk, without waiting.
    static func startWriteback(of path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = sync_file_range(fd, 0, 0, CLINUX_SYNC_FILE_RANGE_WRITE)
    }

    /// Drops the file's clean pages from the page cache (dirty ones stay until written).
    static func drop(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    }
}
