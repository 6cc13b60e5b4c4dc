/// The few superblock fields the preflight needs, decoded from raw bytes so that a
/// filesystem with unknown features is refused before libext2fs ever touches it.
///
/// ```
/// superblock (1024 bytes at byte 1024 of the partition), little-endian
///   0x04  u32  s_blocks_count_lo
///   0x18  u32  s_log_block_size     block size = 1024 << s_log_block_size
///   0x38  u16  s_magic              0xEF53
///   0x3A  u16  s_state              1 EXT2_VALID_FS (cleanly unmounted), 2 EXT2_ERROR_FS
///   0x5C  u32  s_feature_compat
///   0x60  u32  s_feature_incompat
///   0x64  u32  s_feature_ro_compat
///   0x150 u32  s_blocks_count_hi    with the 64bit incompat feature (0x80)
/// ```
public struct Ext4Superblock: Equatable, Sendable {
    /// Byte offset of the primary superblock inside the filesystem.
    public static let offset: UInt64 = 1024
    /// Size of the superblock record.
    public static let size = 1024
    static let magic: UInt16 = 0xEF53

    /// `s_state`: ``validState`` when cleanly unmounted, ``errorState`` once errors were found.
    public var state: UInt16
    public var compat: UInt32
    public var incompat: UInt32
    public var roCompat: UInt32
    /// The file system's size in bytes (blocks times block size); nil when the block size
    /// field is out of range (more than 64 KiB blocks) or the product passes 2^64.
    public var byteSize: UInt64?

    /// Decodes the superblock record; nil when the magic number is absent or input is short.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= 0x68 else { return nil }
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        guard UInt16(bytes[0x38]) | UInt16(bytes[0x39]) << 8 == Self.magic else { return nil }
        state = UInt16(bytes[0x3A]) | UInt16(bytes[0x3B]) << 8
        compat = u32(0x5C)
        incompat = u32(0x60)
        roCompat = u32(0x64)
        let logBlockSize = u32(0x18)
        var blocks = UInt64(u32(0x04))
        if incompat & 0x80 != 0, bytes.count >= 0x154 { blocks |= UInt64(u32(0x150)) << 32 }
        // A corrupt count times the block size can pass 2^64: that is no size either.
        let product = logBlockSize <= 6 ? blocks.multipliedReportingOverflow(by: 1024 << UInt64(logBlockSize)) : nil
        byteSize = product.flatMap { $0.overflow ? nil : $0.partialValue }
    }

    /// Incompatible features whose on-disk rules this patcher (through libext2fs) keeps.
    /// Debian 12 `mkfs.ext4` sets filetype, extent, 64bit, flex_bg; Raspberry Pi OS
    /// drops 64bit; newer images add metadata_csum_seed.
    public static let supportedIncompat: UInt32 = 0x0002 | 0x0040 | 0x0080 | 0x0200 | 0x2000

    /// Read-only-compatible features that are safe to write: sparse_super, large_file,
    /// huge_file, uninit_bg, dir_nlink, extra_isize, metadata_csum. Quota, project,
    /// bigalloc and the like would need bookkeeping that plain writes do not do.
    public static let supportedROCompat: UInt32 = 0x0001 | 0x0002 | 0x0008 | 0x0010 | 0x0020 | 0x0040 | 0x0400

    static let needsRecovery: UInt32 = 0x0004
    /// `EXT2_VALID_FS`: the filesystem was cleanly unmounted.
    static let validState: UInt16 = 0x0001
    /// `EXT2_ERROR_FS`: the kernel or e2fsck found errors that were not repaired.
    static let errorState: UInt16 = 0x0002

    static let incompatNames: [UInt32: String] = [
        0x1: "compression", 0x2: "filetype", 0x4: "needs_recovery", 0x8: "journal_dev",
        0x10: "meta_bg", 0x40: "extent", 0x80: "64bit", 0x100: "mmp", 0x200: "flex_bg",
        0x400: "ea_inode", 0x1000: "dirdata", 0x2000: "metadata_csum_seed",
        0x4000: "large_dir", 0x8000: "inline_data", 0x10000: "encrypt", 0x20000: "casefold",
    ]

    static let roCompatNames: [UInt32: String] = [
        0x1: "sparse_super", 0x2: "large_file", 0x4: "btree_dir", 0x8: "huge_file",
        0x10: "uninit_bg", 0x20: "dir_nlink", 0x40: "extra_isize", 0x80: "snapshot_bitmap",
        0x100: "quota", 0x200: "bigalloc", 0x400: "metadata_csum", 0x800: "replica",
        0x1000: "read-only", 0x2000: "project", 0x4000: "shared_blocks", 0x8000: "verity",
        0x10000: "orphan_present",
    ]

    /// Throws for a filesystem that is not safe to use: a journal that needs recovery; when
    /// writing, a filesystem that is not clean (errors found, or not cleanly unmounted; both
    /// need `e2fsck -f` first, as the journal does); then the first feature (lowest bit first,
    /// incompat before ro_compat) that is not in the supported lists. Unknown ro_compat
    /// features only matter for writing.
    public func preflight(writable: Bool) throws {
        let action = writable ? "write" : "read"
        if incompat & Self.needsRecovery != 0 { throw Ext4Error.needsRecovery }
        if writable, state & Self.validState == 0 || state & Self.errorState != 0 {
            throw Ext4Error.notClean(state: state)
        }
        if let bit = Self.lowestBit(incompat & ~Self.supportedIncompat) {
            let name = Self.incompatNames[bit] ?? "FEATURE_I\(bit.trailingZeroBitCount)"
            throw Ext4Error.unsupportedFeature(name: name, kind: "incompat", mask: bit, action: action)
        }
        if writable, let bit = Self.lowestBit(roCompat & ~Self.supportedROCompat) {
            let name = Self.roCompatNames[bit] ?? "FEATURE_R\(bit.trailingZeroBitCount)"
            throw Ext4Error.unsupportedFeature(name: name, kind: "ro_compat", mask: bit, action: action)
        }
    }

    static func lowestBit(_ mask: UInt32) -> UInt32? {
        mask == 0 ? nil : mask & (~mask &+ 1)
    }
}

extension Ext4Superblock {
    static let compatNames: [UInt32: String] = [
        0x1: "dir_prealloc", 0x2: "imagic_inodes", 0x4: "has_journal", 0x8: "ext_attr",
        0x10: "resize_inode", 0x20: "dir_index", 0x200: "sparse_super2", 0x400: "fast_commit",
        0x800: "stable_inodes", 0x1000: "orphan_file",
    ]

    /// The names of every feature set, in `dumpe2fs` spelling (unknown bits as FEATURE_Cn/In/Rn).
    public var featureNames: [String] {
        func names(_ mask: UInt32, _ table: [UInt32: String], _ prefix: String) -> [String] {
            (0..<32).compactMap { bit in
                let flag = UInt32(1) << UInt32(bit)
                guard mask & flag != 0 else { return nil }
                return table[flag] ?? "FEATURE_\(prefix)\(bit)"
            }
        }
        return names(compat, Self.compatNames, "C") + names(incompat, Self.incompatNames, "I")
            + names(roCompat, Self.roCompatNames, "R")
    }
}
