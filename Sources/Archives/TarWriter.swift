import CArchive

/// Writes a pax/ustar tarball through libarchive, compressed by the output's suffix.
///
/// Deterministic by construction: the caller gives every entry's owner, mode and mtime; no
/// atime/ctime or user names from the machine are recorded, and gzip gets no timestamp.
public final class TarWriter {
    public enum Entry {
        case directory
        case file([UInt8])
        case symlink(String)
    }

    private var archive: OpaquePointer?
    private let path: String

    /// Opens `path` for writing (the caller picks the temporary name; see `AtomicOutput`).
    public init(path: String, compression: Compression) throws(ArchiveError) {
        self.path = path
        guard let archive = archive_write_new() else { throw .libarchive(path, "out of memory") }
        self.archive = archive
        try check(archive_write_set_format_pax_restricted(archive))
        switch compression {
        case .none: break
        case .gzip:
            try check(archive_write_add_filter_gzip(archive))
            try check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil))
        case .xz: try check(archive_write_add_filter_xz(archive))
        case .zstd: try check(archive_write_add_filter_zstd(archive))
        case .bzip2: try check(archive_write_add_filter_bzip2(archive))
        }
        try check(archive_write_open_filename(archive, path))
    }

    deinit {
        if let archive { archive_write_free(archive) }
    }

    /// Appends one entry owned by `uid:gid` (recorded with the name `root` for 0).
    public func add(path name: String, _ entry: Entry, mode: UInt16, uid: UInt32, gid: UInt32,
                    mtime: Int64) throws(ArchiveError) {
        guard let archive, let header = archive_entry_new() else { throw .libarchive(path, "writer is closed") }
        defer { archive_entry_free(header) }
        archive_entry_set_pathname(header, name)
        archive_entry_set_uid(header, Int64(uid))
        archive_entry_set_gid(header, Int64(gid))
        if uid == 0 { archive_entry_set_uname(header, "root") }
        if gid == 0 { archive_entry_set_gname(header, "root") }
        archive_entry_set_mtime(header, time_t(mtime), 0)
        var body: [UInt8] = []
        switch entry {
        case .directory:
            archive_entry_set_filetype(header, CArchiveTypeDirectory)
            archive_entry_set_size(header, 0)
        case .file(let bytes):
            archive_entry_set_filetype(header, CArchiveTypeRegular)
            archive_entry_set_size(header, Int64(bytes.count))
            body = bytes
        case .symlink(let target):
            archive_entry_set_filetype(header, CArchiveTypeSymlink)
            archive_entry_set_symlink(header, target)
            archive_entry_set_size(header, 0)
        }
        archive_entry_set_perm(header, mode_t(mode))
        try check(archive_write_header(archive, header))
        if !body.isEmpty {
            let written = body.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
            guard written == body.count else { throw .libarchive(path, lastError) }
        }
    }

    /// Flushes the compressor and closes the file.
    public func finish() throws(ArchiveError) {
        guard let archive else { return }
        let status = archive_write_close(archive)
        let message = lastError
        archive_write_free(archive)
        self.archive = nil
        guard status == ARCHIVE_OK else { throw .libarchive(path, message) }
    }

    private var lastError: String {
        archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown libarchive error"
    }

    private func check(_ status: Int32) throws(ArchiveError) {
        guard status == ARCHIVE_OK else { throw .libarchive(path, lastError) }
    }
}
