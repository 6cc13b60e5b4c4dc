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

    private let handle: ArchiveWriteHandle

    /// Opens `path` for writing (the caller picks the temporary name; see `AtomicOutput`).
    public init(path: String, compression: Compression) throws(ArchiveError) {
        handle = try ArchiveWriteHandle(path: path)
        let archive = try handle.open()
        try handle.check(archive_write_set_format_pax_restricted(archive))
        switch compression {
        case .none: break
        case .gzip:
            try handle.check(archive_write_add_filter_gzip(archive))
            try handle.check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil))
        case .xz: try handle.check(archive_write_add_filter_xz(archive))
        case .zstd: try handle.check(archive_write_add_filter_zstd(archive))
        case .bzip2: try handle.check(archive_write_add_filter_bzip2(archive))
        }
        try handle.check(archive_write_open_filename(archive, path))
    }

    /// Appends one entry owned by `uid:gid` (recorded with the name `root` for 0).
    public func add(path name: String, _ entry: Entry, mode: UInt16, uid: UInt32, gid: UInt32,
                    mtime: Int64) throws(ArchiveError) {
        let archive = try handle.open()
        guard let header = archive_entry_new() else { throw .libarchive(handle.path, "out of memory") }
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
        try handle.check(archive_write_header(archive, header))
        if !body.isEmpty {
            try handle.writeData(body)
        }
    }

    /// Flushes the compressor and closes the file.
    public func finish() throws(ArchiveError) {
        try handle.finish()
    }
}
