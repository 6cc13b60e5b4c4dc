import Testing

@testable import DiskFormats
import SystemIO

/// A superblock record with only the fields the preflight reads filled in.
private func superblock(compat: UInt32 = 0, incompat: UInt32, roCompat: UInt32, magic: UInt16 = 0xEF53,
                        state: UInt16 = 1) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 1024)
    bytes[0x38] = UInt8(magic & 0xFF)
    bytes[0x39] = UInt8(magic >> 8)
    bytes[0x3A] = UInt8(state & 0xFF)
    bytes[0x3B] = UInt8(state >> 8)
    for (offset, value) in [(0x5C, compat), (0x60, incompat), (0x64, roCompat)] {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
    return bytes
}

/// Debian 12 `mkfs.ext4` defaults: incompat filetype|extent|64bit|flex_bg,
/// ro_compat sparse_super|large_file|huge_file|dir_nlink|extra_isize|metadata_csum.
private let debianIncompat: UInt32 = 0x2C2
private let debianROCompat: UInt32 = 0x46B

@Suite struct Ext4FeaturesTests {
    @Test func decodesFeatureWords() throws {
        let bytes = superblock(compat: 0x1023C, incompat: debianIncompat, roCompat: debianROCompat)
        #expect(Array(bytes[0x38..<0x3A]) == [0x53, 0xEF])
        #expect(Array(bytes[0x60..<0x64]) == [0xC2, 0x02, 0x00, 0x00])
        let decoded = try #require(Ext4Superblock(bytes: bytes))
        #expect(decoded == Ext4Superblock(bytes: bytes))
        #expect(decoded.compat == 0x1023C)
        #expect(decoded.incompat == debianIncompat)
        #expect(decoded.roCompat == debianROCompat)
    }

    @Test func rejectsWrongMagicAndShortInput() {
        #expect(Ext4Superblock(bytes: superblock(incompat: 0, roCompat: 0, magic: 0x1234)) == nil)
        #expect(Ext4Superblock(bytes: Array(superblock(incompat: 0, roCompat: 0).prefix(0x67))) == nil)
    }

    @Test(arguments: [
        ("Debian 12 default", debianIncompat, debianROCompat),
        ("Raspberry Pi OS ^64bit,^huge_file", debianIncompat & ~0x80, debianROCompat & ~0x8),
        ("metadata_csum_seed", debianIncompat | 0x2000, debianROCompat),
    ])
    func acceptsSupportedFeatureSets(name: String, incompat: UInt32, roCompat: UInt32) throws {
        let decoded = try #require(Ext4Superblock(bytes: superblock(incompat: incompat, roCompat: roCompat)))
        try decoded.preflight(writable: true)
    }

    @Test func refusesUnknownIncompatWithClearMessage() throws {
        let decoded = try #require(Ext4Superblock(bytes: superblock(incompat: debianIncompat | 0x80000, roCompat: debianROCompat)))
        let expected = Ext4Error.unsupportedFeature(name: "FEATURE_I19", kind: "incompat", mask: 0x80000, action: "write")
        #expect(throws: expected) { try decoded.preflight(writable: true) }
        #expect(expected.description == "rootfs: ext4 feature 'FEATURE_I19' (incompat 0x80000) is not supported; refusing to write")
    }

    @Test func refusesKnownButUnsupportedFeatures() throws {
        let inline = try #require(Ext4Superblock(bytes: superblock(incompat: debianIncompat | 0x8000, roCompat: debianROCompat)))
        #expect(throws: Ext4Error.unsupportedFeature(name: "inline_data", kind: "incompat", mask: 0x8000, action: "read")) {
            try inline.preflight(writable: false)
        }
        let quota = try #require(Ext4Superblock(bytes: superblock(incompat: debianIncompat, roCompat: debianROCompat | 0x100)))
        #expect(throws: Ext4Error.unsupportedFeature(name: "quota", kind: "ro_compat", mask: 0x100, action: "write")) {
            try quota.preflight(writable: true)
        }
        try quota.preflight(writable: false)
    }

    @Test func refusesAJournalThatNeedsRecovery() throws {
        let dirty = try #require(Ext4Superblock(bytes: superblock(incompat: debianIncompat | 0x4, roCompat: debianROCompat)))
        #expect(throws: Ext4Error.needsRecovery) { try dirty.preflight(writable: true) }
    }

    /// One policy for an unclean rootfs: errors found (state 2, 3) or not cleanly unmounted
    /// (state 0) are refused for writing like a journal that needs recovery.
    @Test(arguments: [UInt16(0), 2, 3])
    func refusesAFilesystemThatIsNotClean(state: UInt16) throws {
        let decoded = try #require(Ext4Superblock(bytes: superblock(incompat: debianIncompat, roCompat: debianROCompat, state: state)))
        #expect(decoded.state == state)
        #expect(throws: Ext4Error.notClean(state: state)) { try decoded.preflight(writable: true) }
        try decoded.preflight(writable: false)
    }
}
