import CExt2fs
import DiskFormats
import Ext2fsImageIO
import Ext4FS
import Foundation
import Testing

/// An ext4 volume is bounded to its partition: a superblock that claims more than the partition
/// is refused up front, and libext2fs's I/O manager itself refuses any block outside the range
/// (issue 22: before, the volume was opened by path and offset only, and nothing bounded it).
@Suite(.serialized) struct Ext4BoundsIntegrationTests {
    @Test func aFileSystemLargerThanItsPartitionIsRefused() throws {
        let dir = try Project.scratch("ext4-bounds")
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: [], megabytes: 64)
        let before = try Project.sha256(image)
        let half = ByteRange(offset: Ext4Tools.partitionOffset, length: 32 << 20)
        #expect(throws: Ext4Error.largerThanPartition(path: image, offset: Ext4Tools.partitionOffset,
                                                      fileSystemBytes: 64 << 20, partitionBytes: 32 << 20)) {
            _ = try Ext4Volume(imagePath: image, range: half, writable: true)
        }
        // The whole partition opens, and the refusal wrote nothing.
        _ = try Ext4Volume(imagePath: image, range: ByteRange(offset: Ext4Tools.partitionOffset, length: 64 << 20), writable: false)
        #expect(try Project.sha256(image) == before)
    }

    /// Below the Swift preflight: the I/O manager given a 1 MiB range refuses the file system's
    /// last block, which lies beyond it, with EXT2_ET_BAD_BLOCK_NUM, while the superblock and
    /// the group descriptors inside it read.
    @Test func theIOManagerRefusesBlocksOutsideItsRange() throws {
        let dir = try Project.scratch("ext4-io-bounds")
        let image = try Ext4Tools.makeImage(in: dir, mkfsOptions: [], megabytes: 64)
        func open(length: UInt64) -> (errcode_t, ext2_filsys?) {
            var handle: ext2_filsys?
            let code = ext2fs_open2(image, "offset=\(Ext4Tools.partitionOffset)&length=\(length)", EXT2_FLAG_64BITS, 0, 0,
                                    cext2fs_image_io_manager(), &handle)
            return (code, handle)
        }
        func readLastBlock(_ fs: ext2_filsys) -> errcode_t {
            var block = [UInt8](repeating: 0, count: Int(fs.pointee.blocksize))
            let last = ext2fs_blocks_count(fs.pointee.super) - 1
            return block.withUnsafeMutableBytes { io_channel_read_blk64(fs.pointee.io, last, 1, $0.baseAddress) }
        }
        var (whole, handle) = open(length: 64 << 20)
        #expect(whole == 0)
        if let opened = handle { #expect(readLastBlock(opened) == 0) }
        _ = ext2fs_close_free(&handle)

        var (small, bounded) = open(length: 1 << 20)
        #expect(small == 0, "the superblock and group descriptors lie inside the first MiB")
        let opened = try #require(bounded)
        #expect(readLastBlock(opened) == errcode_t(EXT2_ET_BAD_BLOCK_NUM))
        _ = ext2fs_close_free(&bounded)
    }
}
