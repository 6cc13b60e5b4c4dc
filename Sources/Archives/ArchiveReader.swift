import CArchive

/// Streams the payload of a possibly compressed file through libarchive: a raw image under
/// any compression libarchive knows (xz, gzip, zstd, bzip2, ...), or the one member of a zip
/// that the caller picks. Never holds more than one block in memory.
public final class ArchiveReader {
    /// One member of the input (for a plain compressed stream: a single member named "data").
    public struct Member: Sendable {
        public var name: String
        /// Size when the format records it (zip does; raw streams do not).
        public var size: Int64?
    }

    private var archive: OpaquePointer?
    private let source: ByteSource
    private var buffer: UnsafeMutableRawBufferPointer
    /// The error thrown by the source inside libarchive's callback, rethrown to the caller.
    private var sourceError: Error?

    /// Opens `source`; `zip` selects the zip reader, otherwise the input is one raw stream.
    public init(source: ByteSource, zip: Bool, blockSize: Int = 1 << 20) throws {
        self.source = source
        buffer = .allocate(byteCount: blockSize, alignment: 4096)
        guard let archive = archive_read_new() else { throw ArchiveError.libarchive(source.name, "out of memory") }
        self.archive = archive
        archive_read_support_filter_all(archive)
        if zip {
            archive_read_support_format_zip(archive)
        } else {
            archive_read_support_format_raw(archive)
        }
        let status = archive_read_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, { _, context, out in
            let reader = Unmanaged<ArchiveReader>.fromOpaque(context!).takeUnretainedValue()
            do {
                let count = try reader.source.read(into: reader.buffer)
                out?.pointee = UnsafeRawPointer(reader.buffer.baseAddress)
                return count
            } catch {
                reader.sourceError = error
                return -1
            }
        }, nil)
        try check(status)
    }

    deinit {
        if let archive { archive_read_free(archive) }
        buffer.deallocate()
    }

    /// The next member, or nil at the end of the input.
    public func nextMember() throws -> Member? {
        guard let archive else { return nil }
        var entry: OpaquePointer?
        let status = archive_read_next_header(archive, &entry)
        if status == ARCHIVE_EOF { return nil }
        try check(status)
        let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? "data"
        let size = archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : nil
        return Member(name: name, size: size)
    }

    /// Calls `body` with each block of the current member's data and its offset in the member
    /// (offsets can jump over holes of sparse members); returns the member's length.
    @discardableResult
    public func readData(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) throws -> Int64 {
        guard let archive else { return 0 }
        var end: Int64 = 0
        while true {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            let status = archive_read_data_block(archive, &block, &size, &offset)
            if status == ARCHIVE_EOF { return end }
            try check(status)
            if size > 0, let block {
                try body(UnsafeRawBufferPointer(start: block, count: size), offset)
            }
            end = max(end, offset + Int64(size))
        }
    }

    /// Skips the current member's data.
    public func skipData() throws {
        guard let archive else { return }
        try check(archive_read_data_skip(archive))
    }

    private func check(_ status: Int32) throws {
        guard status < ARCHIVE_OK else { return }
        if let sourceError { throw sourceError }
        let message = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unreadable data"
        if status == ARCHIVE_WARN { return }
        throw ArchiveError.libarchive(source.name, message)
    }
}
