import CArchive

/// Writes one stream of bytes to a file compressed with xz, gzip, zstd or bzip2 (libarchive's
/// raw format: no container, as `xz -c` would produce).
public final class CompressedFileWriter {
    private var archive: OpaquePointer?
    private let path: String

    public init(path: String, compression: Compression, size: Int64, threads: Int = 2) throws(ArchiveError) {
        self.path = path
        guard let archive = archive_write_new() else { throw .libarchive(path, "out of memory") }
        self.archive = archive
        try check(archive_write_set_format_raw(archive))
        switch compression {
        case .none: throw .libarchive(path, "no compression chosen for a compressed output")
        case .gzip:
            try check(archive_write_add_filter_gzip(archive))
            try check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil))
        case .xz:
            try check(archive_write_add_filter_xz(archive))
            // Threads split the stream into blocks; the output stays the same for a given count.
            _ = archive_write_set_filter_option(archive, "xz", "threads", String(threads))
        case .zstd: try check(archive_write_add_filter_zstd(archive))
        case .bzip2: try check(archive_write_add_filter_bzip2(archive))
        }
        archive_write_set_bytes_in_last_block(archive, 1)
        try check(archive_write_open_filename(archive, path))
        guard let entry = archive_entry_new() else { throw .libarchive(path, "out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, "data")
        archive_entry_set_filetype(entry, CArchiveTypeRegular)
        archive_entry_set_size(entry, size)
        try check(archive_write_header(archive, entry))
    }

    deinit {
        if let archive { archive_write_free(archive) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard let archive else { throw .libarchive(path, "writer is closed") }
        let written = archive_write_data(archive, bytes.baseAddress, bytes.count)
        guard written == bytes.count else { throw .libarchive(path, lastError) }
    }

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
