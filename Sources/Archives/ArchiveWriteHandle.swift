import CArchive
import SystemIO
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libarchive writer (`struct archive *`): status checks with libarchive's own
/// message, closing, and freeing in deinit. TarWriter and CompressedFileWriter build on it.
final class ArchiveWriteHandle {
    private(set) var archive: OpaquePointer?
    let path: String

    init(path: String) throws(ArchiveError) {
        self.path = path
        guard let archive = archive_write_new() else { throw .libarchive(path, "out of memory") }
        self.archive = archive
    }

    deinit {
        if let archive { archive_write_free(archive) }
    }

    /// The open writer, or an error once it is closed.
    func open() throws(ArchiveError) -> OpaquePointer {
        guard let archive else { throw .libarchive(path, "writer is closed") }
        return archive
    }

    /// libarchive's last failure: its message, and the system's errno when it has one.
    var lastError: ArchiveError {
        let message = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown libarchive error"
        let code = archive.map { archive_errno($0) } ?? 0
        // EILSEQ and EINVAL are libarchive's own "bad format" and "bad usage" codes, not the system's.
        guard code > 0, code != EILSEQ, code != EINVAL else { return .libarchive(path, message) }
        return .libarchive(path, message, errno: Errno(code))
    }

    func check(_ status: Int32) throws(ArchiveError) {
        guard status == ARCHIVE_OK else { throw lastError }
    }

    /// Writes all of `bytes` as entry data.
    func writeData(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        let written = archive_write_data(try open(), bytes.baseAddress, bytes.count)
        guard written == bytes.count else { throw lastError }
    }

    func writeData(_ bytes: [UInt8]) throws(ArchiveError) {
        let archive = try open()
        let written = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw lastError }
    }

    /// Flushes the compressor, closes the file and frees the writer.
    func finish() throws(ArchiveError) {
        guard let archive else { return }
        let status = archive_write_close(archive)
        let failure = lastError
        archive_write_free(archive)
        self.archive = nil
        guard status == ARCHIVE_OK else { throw failure }
    }
}
