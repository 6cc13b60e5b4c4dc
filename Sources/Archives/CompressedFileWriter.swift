import CArchive

/// Writes one stream of bytes to a file compressed with xz, gzip, zstd or bzip2 (no container,
/// as `xz -c` would produce). xz goes through liblzma directly (XZFileWriter: bounded memory,
/// output independent of the thread count); the others through libarchive's raw format.
public final class CompressedFileWriter {
    private enum Backend {
        case archive(ArchiveWriteHandle)
        case xz(XZFileWriter)
    }

    private let backend: Backend

    public init(path: String, compression: Compression, size: Int64, threads: Int = 2) throws(ArchiveError) {
        if compression == .xz {
            backend = .xz(try XZFileWriter(path: path, threads: UInt32(max(1, threads))))
            return
        }
        let handle = try ArchiveWriteHandle(path: path)
        backend = .archive(handle)
        let archive = try handle.open()
        try handle.check(archive_write_set_format_raw(archive))
        switch compression {
        case .none, .xz: throw .libarchive(path, "no compression chosen for a compressed output")
        case .gzip:
            try handle.check(archive_write_add_filter_gzip(archive))
            try handle.check(archive_write_set_filter_option(archive, "gzip", "timestamp", nil))
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
        switch backend {
        case .archive(let handle): try handle.writeData(bytes)
        case .xz(let writer): try writer.write(bytes)
        }
    }

    public func finish() throws(ArchiveError) {
        switch backend {
        case .archive(let handle): try handle.finish()
        case .xz(let writer): try writer.finish()
        }
    }
}
