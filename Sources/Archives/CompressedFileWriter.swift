import CArchive

/// Writes one stream of bytes to a file compressed with xz, gzip, zstd or bzip2 (libarchive's
/// raw format: no container, as `xz -c` would produce).
public final class CompressedFileWriter {
    private let handle: ArchiveWriteHandle

    public init(path: String, compression: Compression, size: Int64, threads: Int = 2) throws(ArchiveError) {
        handle = try ArchiveWriteHandle(path: path)
        let archive = try handle.open()
        try handle.check(archive_write_set_format_raw(archive))
        switch compression {
        case .none: throw .libarchive(path, "no compression chosen for a compressed output")
        case .gzip:
            try handle.check(archive_write_add_filter_gzip(archive))
            try handle.check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil))
        case .xz:
            try handle.check(archive_write_add_filter_xz(archive))
            // Threads split the stream into blocks; the output stays the same for a given count.
            _ = archive_write_set_filter_option(archive, "xz", "threads", String(threads))
        case .zstd: try handle.check(archive_write_add_filter_zstd(archive))
        case .bzip2: try handle.check(archive_write_add_filter_bzip2(archive))
        }
        archive_write_set_bytes_in_last_block(archive, 1)
        try handle.check(archive_write_open_filename(archive, path))
        guard let entry = archive_entry_new() else { throw .libarchive(path, "out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, "data")
        archive_entry_set_filetype(entry, CArchiveTypeRegular)
        archive_entry_set_size(entry, size)
        try handle.check(archive_write_header(archive, entry))
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        try handle.writeData(bytes)
    }

    public func finish() throws(ArchiveError) {
        try handle.finish()
    }
}
