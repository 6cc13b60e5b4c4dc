import DiskFormats
import CExt2fs

/// Which bytes of the image the filesystem uses, for the `.bmap`.
///
/// The block bitmaps already mark every metadata block: superblock and group
/// descriptor copies, reserved GDT blocks, the bitmaps themselves, inode tables and
/// the journal (libext2fs fills in groups flagged BLOCK_UNINIT when it loads them).
/// The boot sector and primary superblock (the first 2048 bytes) are always added,
/// because with 1 KiB blocks byte 0..1023 lies outside block numbering.
///
/// ```
/// byte offset in image = offset + block × blockSize
/// ```
extension Ext4Volume {
    /// Allocated byte ranges, relative to the image file, sorted and merged.
    public func allocatedRanges() throws -> [(offset: UInt64, length: UInt64)] {
        let fs = try handle()
        let blockSize = UInt64(fs.pointee.blocksize)
        let first = blk64_t(fs.pointee.super.pointee.s_first_data_block)
        let end = ext2fs_blocks_count(fs.pointee.super)
        var ranges: [(offset: UInt64, length: UInt64)] = [(offset, 2048)]
        var block = first
        while block < end {
            var start: blk64_t = 0
            guard ext2fs_find_first_set_block_bitmap2(fs.pointee.block_map, block, end - 1, &start) == 0 else { break }
            var stop: blk64_t = 0
            if ext2fs_find_first_zero_block_bitmap2(fs.pointee.block_map, start, end - 1, &stop) != 0 {
                stop = end
            }
            ranges.append((offset + start * blockSize, (stop - start) * blockSize))
            block = stop
        }
        return Self.merge(ranges)
    }

    /// Sorts byte ranges and joins those that overlap or touch.
    public static func merge(_ ranges: [(offset: UInt64, length: UInt64)]) -> [(offset: UInt64, length: UInt64)] {
        var merged: [(offset: UInt64, length: UInt64)] = []
        for range in ranges.sorted(by: { $0.offset < $1.offset }) where range.length > 0 {
            if let last = merged.last, range.offset <= last.offset + last.length {
                let end = max(last.offset + last.length, range.offset + range.length)
                merged[merged.count - 1].length = end - last.offset
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
