import Testing
@testable import Ext4FS

/// The pure helpers of ``Ext4Volume``: time encoding, path splitting, range merging.
struct Ext4VolumeHelpersTests {
    @Test func encodesTimesBeyond2038() {
        #expect(Ext4Volume.encodeTime(1_700_000_000) == (low: 1_700_000_000, extra: 0))
        #expect(Ext4Volume.encodeTime(0x8000_0000) == (low: 0x8000_0000, extra: 1))
        #expect(Ext4Volume.encodeTime(-1) == (low: 0xFFFF_FFFF, extra: 0))
    }

    @Test func splitsPaths() {
        #expect(Ext4Volume.components("/etc//systemd/./system/") == ["etc", "systemd", "system"])
        #expect(Ext4Volume.components("a/../b") == ["a", "..", "b"])
        #expect(Ext4Volume.components("/") == ["."])
    }

    @Test func mergesRanges() {
        let merged = Ext4Volume.merge([(offset: 100, length: 50), (offset: 0, length: 100), (offset: 300, length: 0), (offset: 120, length: 10), (offset: 200, length: 1)])
        #expect(merged.map { [$0.offset, $0.length] } == [[0, 150], [200, 1]])
    }
}
