import CLzma
#if canImport(Glibc)
import Glibc
#endif

/// Reads the raw bytes of a `.xz` file (one stream or several concatenated) with liblzma's
/// multi-threaded decoder.
///
/// libarchive decodes `.xz` on one thread. A stock image compressed by `xz -T0` (or any
/// multi-threaded encoder) is a run of independent blocks, each with its sizes in its header,
/// which liblzma's threaded decoder spreads over the cores:
///
///     ┌ stream header ┐┌ block 0 ┐┌ block 1 ┐┌ block 2 ┐ … ┌ index ┐┌ stream footer ┐
///                        thread 1   thread 2   thread 1      (each fills its own output buffer,
///                                                            handed out in order)
///
/// A file made by single-threaded `xz` is one block without sizes: the decoder then runs on one
/// thread, as libarchive would. Memory: liblzma keeps to `threadingMemoryLimit` for its thread
/// buffers (about two blocks' worth each), falling back to fewer threads, never failing for it.
public final class XZStreamReader: ByteSource {
    /// What the threaded decoder may hold before it runs fewer threads: 2 x 24 MiB blocks (the
    /// block size of `xz -T` at its default preset) with their input, and the dictionary.
    public static let threadingMemoryLimit: UInt64 = 160 << 20

    private var stream = clzma_stream_init()
    private let source: ByteSource
    public var name: String { source.name }
    private let input: UnsafeMutableRawBufferPointer
    private var atEnd = false
    private var finished = false

    /// `threads` of 0 means one per core.
    public init(source: ByteSource, threads: UInt32 = 0) throws(ArchiveError) {
        self.source = source
        var options = lzma_mt()
        options.flags = clzma_concatenated
        options.threads = threads == 0 ? max(1, lzma_cputhreads()) : threads
        options.timeout = 0
        options.memlimit_threading = Self.threadingMemoryLimit
        options.memlimit_stop = UInt64.max
        let status = lzma_stream_decoder_mt(&stream, &options)
        guard status == LZMA_OK else { throw .libarchive(source.name, "xz decoder: \(Self.describe(status))") }
        input = .allocate(byteCount: 1 << 20, alignment: 16)
    }

    deinit {
        lzma_end(&stream)
        input.deallocate()
    }

    /// Fills `buffer` with the next decoded bytes; returns how many, 0 only at the end of the
    /// last stream. Throws on corrupt or truncated input.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = buffer.count
        while stream.avail_out > 0 {
            if stream.avail_in == 0 && !atEnd {
                let count = try source.read(into: input)
                stream.next_in = UnsafePointer(input.baseAddress!.assumingMemoryBound(to: UInt8.self))
                stream.avail_in = count
                atEnd = count == 0
            }
            let status = lzma_code(&stream, atEnd ? LZMA_FINISH : LZMA_RUN)
            if status == LZMA_STREAM_END {
                finished = true
                break
            }
            guard status == LZMA_OK else {
                throw ArchiveError.libarchive(source.name, "xz decoder: \(Self.describe(status))")
            }
        }
        return buffer.count - stream.avail_out
    }

    private static func describe(_ status: lzma_ret) -> String {
        switch status {
        case LZMA_BUF_ERROR: "the input ends before the stream does"
        case LZMA_DATA_ERROR: "corrupted input data"
        case LZMA_FORMAT_ERROR: "not an .xz stream"
        case LZMA_OPTIONS_ERROR: "unsupported options"
        case LZMA_MEM_ERROR: "out of memory"
        case LZMA_MEMLIMIT_ERROR: "memory limit reached"
        case LZMA_UNSUPPORTED_CHECK: "unsupported integrity check"
        case LZMA_PROG_ERROR: "internal error"
        default: "error \(status.rawValue)"
        }
    }
}
