import DiskFormats

/// A run of blocks written to the target and the sha256 of its bytes (the last block cut
/// at the end of the image), as streamed; the read-back compares against it.
public struct WrittenRange: Equatable, Sendable {
    public var first: UInt64
    public var last: UInt64
    public var sha256: String
}

/// Receives the image stream in order and writes what should land on the target:
/// - with a bmap, exactly the mapped ranges, each hashed as it passes (on a thread of its own,
///   `BackgroundDigest`, while this one reads and writes) and compared with the bmap's checksum
///   as soon as its hash is done: at most the digest's 16 MiB of slots after its last byte;
/// - without one, every block, zero or not, in runs of `runBlocks` (64 MiB), each hashed on the
///   same background thread as it passes: a card holds old data, so a zero block of the image
///   must be written as zeros (what `bmaptool copy --nobmap` and every imager do).
///
/// ```
/// with a bmap:     |....####....######..|     # = mapped blocks
/// writes:               ####    ######        large aligned pwrites, nothing else touched
/// without one:     |####################|     every block, ranges of 64 MiB
/// ```
final class RangeCopier {
    private let writer: AlignedWriter
    private let bmap: Bmap?
    private let blockSize: UInt64
    /// Next stream offset expected; gaps (sparse members) are fed as zeros.
    private(set) var position: UInt64 = 0
    private(set) var ranges: [WrittenRange] = []

    // The digests of the ranges (one segment each) and how many of them were checked; with a
    // bmap, the range being received.
    private var index = 0
    private let rangeDigests = BackgroundDigest()
    private var checked = 0
    /// Without a bmap, the blocks of a written run (the last one may be shorter).
    static let runBlocks: UInt64 = 16384

    init(writer: AlignedWriter, bmap: Bmap?) {
        self.writer = writer
        self.bmap = bmap
        blockSize = bmap?.blockSize ?? 4096
    }

    var bytesWritten: UInt64 { writer.written }

    /// Feeds `bytes` found at `offset` of the image.
    func consume(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if offset > position { try feedZeros(upTo: offset) }
        let skip = Int(position - offset)
        guard skip < bytes.count else { return }
        let fresh = UnsafeRawBufferPointer(rebasing: bytes[skip...])
        if bmap != nil { try consumeMapped(fresh) } else { try consumeAll(fresh) }
    }

    /// The end of the stream: checks that every mapped range arrived, writes the last partial
    /// block, flushes and fsyncs.
    func finish() throws {
        if let bmap {
            try check(rangeDigests.allSegments(from: checked), bmap)
            if index < bmap.ranges.count {
                throw FlashError.truncated("image", got: position, needed: rangeEnd(bmap.ranges[index], bmap))
            }
        } else {
            if position % (Self.runBlocks * blockSize) != 0 { rangeDigests.cut() }
            recordRuns(rangeDigests.allSegments(from: ranges.count))
        }
        try writer.sync()
    }

    private func feedZeros(upTo offset: UInt64) throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        while position < offset {
            let count = Int(min(UInt64(zeros.count), offset - position))
            try zeros.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[..<count]), at: position) }
        }
    }

    private func rangeEnd(_ range: Bmap.Range, _ bmap: Bmap) -> UInt64 {
        min((range.last + 1) * bmap.blockSize, bmap.imageSize)
    }

    private func consumeMapped(_ bytes: UnsafeRawBufferPointer) throws {
        guard let bmap else { return }
        let end = position + UInt64(bytes.count)
        while index < bmap.ranges.count {
            let range = bmap.ranges[index]
            let rangeStart = range.first * bmap.blockSize
            let rangeStop = rangeEnd(range, bmap)
            guard rangeStart < end else { break }
            let from = max(rangeStart, position)
            let to = min(rangeStop, end)
            if from < to {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[Int(from - position)..<Int(to - position)])
                rangeDigests.update(piece)
                try writer.append(piece, at: from)
            }
            guard to == rangeStop else { break }
            rangeDigests.cut()
            index += 1
        }
        position = end
        try check(rangeDigests.segments(from: checked), bmap)
    }

    /// Compares the range digests that are done (the next `digests.count` ranges after those
    /// already checked) with the bmap and records them as written.
    private func check(_ digests: [String], _ bmap: Bmap) throws {
        for actual in digests {
            let range = bmap.ranges[checked]
            if let expected = range.checksum, bmap.checksumType == .sha256, expected.lowercased() != actual {
                throw FlashError.rangeChecksum(first: range.first, last: range.last, expected: expected, actual: actual)
            }
            ranges.append(WrittenRange(first: range.first, last: range.last, sha256: actual))
            checked += 1
        }
    }

    /// Without a bmap: every byte, hashed in runs of `runBlocks` blocks (a cut at each run's end).
    private func consumeAll(_ bytes: UnsafeRawBufferPointer) throws {
        let runBytes = Self.runBlocks * blockSize
        var at = 0
        while at < bytes.count {
            let runEnd = (position / runBytes + 1) * runBytes
            let take = Int(min(UInt64(bytes.count - at), runEnd - position))
            let piece = UnsafeRawBufferPointer(rebasing: bytes[at..<at + take])
            rangeDigests.update(piece)
            try writer.append(piece, at: position)
            position += UInt64(take)
            at += take
            if position == runEnd { rangeDigests.cut() }
        }
        recordRuns(rangeDigests.segments(from: ranges.count))
    }

    /// Records the runs whose digests are done: run `n` covers blocks n x runBlocks on, up to the
    /// end of the stream for the last one.
    private func recordRuns(_ digests: [String]) {
        for digest in digests {
            let first = UInt64(ranges.count) * Self.runBlocks
            let last = min(first + Self.runBlocks, (position + blockSize - 1) / blockSize) - 1
            ranges.append(WrittenRange(first: first, last: last, sha256: digest))
        }
    }
}
