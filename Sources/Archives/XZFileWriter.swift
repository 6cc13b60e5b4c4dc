import CLzma
#if canImport(Glibc)
import Glibc
import SystemIO
#endif

/// Writes one stream of bytes to a `.xz` file with liblzma's multi-threaded encoder, with a block
/// size we choose instead of libarchive's default (3 x the dictionary, 24 MiB at preset 6).
///
/// Memory is what this buys: each encoder thread holds its LZMA2 state plus an input and an output
/// buffer of one block. At preset 6 with 2 threads, liblzma accounts
///
///     block size   encoder memory (lzma_stream_encoder_mt_memusage)
///     24 MiB       330 MiB   (xz -T2's default)
///      8 MiB       234 MiB   (ours: one block = one dictionary)
///
/// The .xz stream is standard (`xz -d`, Raspberry Pi Imager and bmaptool read it) and, because the
/// blocks are cut at fixed offsets and compressed independently, the bytes depend on the preset and
/// the block size only, never on the thread count.
///
///     ┌ stream header ┐┌ block 0 (8 MiB in) ┐┌ block 1 ┐ … ┌ index ┐┌ stream footer ┐
public final class XZFileWriter {
    public static let defaultPreset: UInt32 = 6
    public static let defaultBlockSize: UInt64 = 8 << 20

    private var stream = clzma_stream_init()
    private let fd: Int32
    private let path: String
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false

    /// Creates (truncates) `path` and starts an encoder; `threads` of 0 means one per core.
    public init(path: String, preset: UInt32 = defaultPreset, blockSize: UInt64 = defaultBlockSize,
                threads: UInt32 = 2) throws(ArchiveError) {
        self.path = path
        var options = lzma_mt()
        options.flags = 0
        options.threads = threads == 0 ? max(1, lzma_cputhreads()) : threads
        options.block_size = blockSize
        options.timeout = 0
        options.preset = preset
        options.check = LZMA_CHECK_CRC64
        let status = lzma_stream_encoder_mt(&stream, &options)
        guard status == LZMA_OK else { throw .libarchive(path, "xz encoder: \(Self.describe(status))") }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let failure = Errno.current
            lzma_end(&stream)
            throw .system(path, failure)
        }
        output = .allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit {
        lzma_end(&stream)
        output.deallocate()
        close(fd)
    }

    /// Compresses `bytes`, writing whatever output the encoder has ready.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard !bytes.isEmpty else { return }
        stream.next_in = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_in = bytes.count
        while stream.avail_in > 0 {
            try step(LZMA_RUN)
        }
    }

    /// Flushes the last block, the index and the footer, and closes the file.
    public func finish() throws(ArchiveError) {
        guard !finished else { return }
        finished = true
        stream.next_in = nil
        stream.avail_in = 0
        while try step(LZMA_FINISH) != LZMA_STREAM_END {}
    }

    /// One call of lzma_code, then the output buffer (when full, or at the end) to the file.
    @discardableResult
    private func step(_ action: lzma_action) throws(ArchiveError) -> lzma_ret {
        stream.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = output.count
        let status = lzma_code(&stream, action)
        guard status == LZMA_OK || status == LZMA_STREAM_END else {
            throw .libarchive(path, "xz encoder: \(Self.describe(status))")
        }
        try writeAll(UnsafeRawBufferPointer(rebasing: output[..<(output.count - stream.avail_out)]))
        return status
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        do {
            try FileIO.write(fd, bytes)
        } catch {
            throw .system(path, error.errno)
        }
    }

    private static func describe(_ status: lzma_ret) -> String {
        switch status {
        case LZMA_MEM_ERROR: "out of memory"
        case LZMA_OPTIONS_ERROR: "unsupported options"
        case LZMA_UNSUPPORTED_CHECK: "unsupported integrity check"
        case LZMA_PROG_ERROR: "internal error"
        default: "error \(status.rawValue)"
        }
    }
}
