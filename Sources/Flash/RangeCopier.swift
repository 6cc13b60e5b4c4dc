import DiskImage

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
/// - without one, every block, zero or not, in runs of `runBlocks` (64 MiB) hashed as they pass:
///   a card holds old data, so a zero block of the image must be written as zeros (what
///   `bmaptool copy --nobmap` and every imager do).
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

    // With a bmap: the range being received, the digests of the ranges (one segment each), and
    // how many of them were checked.
    private var index = 0
    private let rangeDigests: BackgroundDigest?
    private var checked = 0
    // Without: the partial block being gathered and the run being written.
    static let runBlocks: UInt64 = 16384
    private var block: [UInt8] = []
    private var run: (first: UInt64, digest: StreamDigest)?

    init(writer: AlignedWriter, bmap: Bmap?) {
        self.writer = writer
        self.bmap = bmap
        blockSize = bmap?.blockSize ?? 4096
        rangeDigests = bmap == nil ? nil : BackgroundDigest()
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
        if let bmap, let rangeDigests {
            try check(rangeDigests.allSegments(from: checked), bmap)
            if index < bmap.ranges.count {
                throw FlashError.truncated("image", got: position, needed: rangeEnd(bmap.ranges[index], bmap))
            }
        } else {
            if !block.isEmpty {
                let last = block
                block = []
                try last.withUnsafeBytes { try takeBlock($0, at: position - UInt64(last.count)) }
            }
            closeRun()
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
        guard let bmap, let rangeDigests else { return }
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

    private func consumeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var at = 0
        let size = Int(blockSize)
        if !block.isEmpty {
            let take = min(size - block.count, bytes.count)
            block += UnsafeRawBufferPointer(rebasing: bytes[..<take])
            at = take
            position += UInt64(take)
            if block.count == size {
                let full = block
                block = []
                try full.withUnsafeBytes { try takeBlock($0, at: position - UInt64(size)) }
            }
        }
        while bytes.count - at >= size {
            try takeBlock(UnsafeRawBufferPointer(rebasing: bytes[at..<at + size]), at: position)
            at += size
            position += UInt64(size)
        }
        if at < bytes.count {
            block = Array(UnsafeRawBufferPointer(rebasing: bytes[at...]))
            position += UInt64(bytes.count - at)
        }
    }

    private func takeBlock(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if run == nil { run = (offset / blockSize, StreamDigest()) }
        run?.digest.update(bytes)
        try writer.append(bytes, at: offset)
        if let run, offset / blockSize + 1 - run.first == Self.runBlocks { closeRun() }
    }

    private func closeRun() {
        guard let run else { return }
        let blocks = (run.digest.count + blockSize - 1) / blockSize
        ranges.append(WrittenRange(first: run.first, last: run.first + blocks - 1, sha256: run.digest.hex()))
        self.run = nil
    }
}
