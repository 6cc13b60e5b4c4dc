/// The FAT boot sector and BIOS Parameter Block: every geometry figure comes from here.
///
/// ```
/// offset size field                       FAT32 only (FAT12/16 put the EBPB at 36)
/// 0      3   jump                         36  4 sectors per FAT
/// 3      8   OEM name                     40  2 ext flags (bit 7: mirroring off, 0-3 active FAT)
/// 11     2   bytes per sector             42  2 version (0)
/// 13     1   sectors per cluster          44  4 root directory cluster
/// 14     2   reserved sectors             48  2 FSInfo sector
/// 16     1   number of FATs               50  2 backup boot sector
/// 17     2   root entries (0 on FAT32)    64  EBPB: drive, reserved, signature 0x29,
/// 19     2   total sectors (16-bit)           volume id (u32), label (11), type (8)
/// 21     1   media
/// 22     2   sectors per FAT (0 on FAT32) EBPB at 36 (FAT12/16) or 64 (FAT32):
/// 24     2   sectors per track            +0 drive, +1 reserved, +2 signature 0x28/0x29,
/// 26     2   heads                        +3 volume id, +7 label (11), +18 type (8)
/// 28     4   hidden sectors
/// 32     4   total sectors (32-bit)       510 0x55 0xAA
/// ```
public struct FATBootSector: Equatable, Sendable {
    public var bytesPerSector: Int
    public var sectorsPerCluster: Int
    public var reservedSectors: Int
    public var fatCount: Int
    public var rootEntryCount: Int
    public var totalSectors: Int
    public var sectorsPerFAT: Int
    /// FAT32: first cluster of the root directory.
    public var rootCluster: UInt32
    /// FAT32: sector of the FSInfo block (0 or 0xFFFF: none).
    public var fsInfoSector: Int
    /// FAT32: bit 7 set means only FAT number (bits 0-3) is in use.
    public var extFlags: UInt16
    public var volumeID: UInt32
    /// Label from the EBPB, trailing spaces removed; "NO NAME" reads as "".
    public var label: String
    public var kind: FATKind

    /// Sectors of the fixed root directory (0 on FAT32).
    public var rootDirectorySectors: Int { (rootEntryCount * 32 + bytesPerSector - 1) / bytesPerSector }
    /// First sector of the fixed root directory (FAT12/16).
    public var rootDirectorySector: Int { reservedSectors + fatCount * sectorsPerFAT }
    /// First sector of cluster 2.
    public var firstDataSector: Int { rootDirectorySector + rootDirectorySectors }
    /// Number of data clusters; valid cluster numbers are 2 ... clusterCount + 1.
    public var clusterCount: Int { (totalSectors - firstDataSector) / sectorsPerCluster }
    public var clusterSize: Int { bytesPerSector * sectorsPerCluster }
    /// Whether FAT writes go to every copy (false when FAT32 mirroring is off).
    public var mirrored: Bool { kind != .fat32 || extFlags & 0x80 == 0 }
    /// The FAT copy to read (the active one when mirroring is off).
    public var activeFAT: Int { mirrored ? 0 : Int(extFlags & 0x0F) }

    /// Decodes sector 0 of a FAT volume. Nil when fewer than 512 bytes are given; throws a
    /// reason when the fields do not describe a FAT file system.
    public static func decode(_ s: [UInt8]) throws -> FATBootSector? {
        guard s.count >= 512 else { return nil }
        func bad(_ reason: String) -> FATError { .badBootSector(reason) }
        guard s[510] == 0x55, s[511] == 0xAA else { throw bad("no 55 aa signature at byte 510") }
        let bps = Int(BytesLE.u16(s, 11))
        guard [512, 1024, 2048, 4096].contains(bps) else { throw bad("bytes per sector is \(bps)") }
        let spc = Int(s[13])
        guard spc > 0, spc & (spc - 1) == 0 else { throw bad("sectors per cluster is \(spc)") }
        let reserved = Int(BytesLE.u16(s, 14))
        guard reserved > 0 else { throw bad("no reserved sectors") }
        let fats = Int(s[16])
        guard fats > 0 else { throw bad("no FAT copies") }
        let rootEntries = Int(BytesLE.u16(s, 17))
        let total16 = Int(BytesLE.u16(s, 19)), total32 = Int(BytesLE.u32(s, 32))
        let total = total16 != 0 ? total16 : total32
        let fat16Size = Int(BytesLE.u16(s, 22))
        let isFAT32 = fat16Size == 0
        let fatSize = isFAT32 ? Int(BytesLE.u32(s, 36)) : fat16Size
        guard fatSize > 0 else { throw bad("sectors per FAT is 0") }
        let ebpb = isFAT32 ? 64 : 36
        var boot = FATBootSector(
            bytesPerSector: bps, sectorsPerCluster: spc, reservedSectors: reserved, fatCount: fats,
            rootEntryCount: rootEntries, totalSectors: total, sectorsPerFAT: fatSize,
            rootCluster: isFAT32 ? BytesLE.u32(s, 44) : 0,
            fsInfoSector: isFAT32 ? Int(BytesLE.u16(s, 48)) : 0,
            extFlags: isFAT32 ? BytesLE.u16(s, 40) : 0,
            volumeID: 0, label: "", kind: .fat32)
        if s[ebpb + 2] == 0x29 {
            boot.volumeID = BytesLE.u32(s, ebpb + 3)
            let raw = String(decoding: s[(ebpb + 7)..<(ebpb + 18)], as: UTF8.self)
            let trimmed = String(raw.reversed().drop { $0 == " " }.reversed())
            boot.label = trimmed == "NO NAME" ? "" : trimmed
        }
        guard boot.firstDataSector < total else {
            throw bad("\(total) sectors leave no room for data after \(boot.firstDataSector) metadata sectors")
        }
        let clusters = boot.clusterCount
        guard clusters >= 1 else { throw bad("no data clusters") }
        if isFAT32 {
            guard rootEntries == 0 else { throw bad("FAT32 with \(rootEntries) fixed root entries") }
            guard (2...UInt32(clusters + 1)).contains(boot.rootCluster) else {
                throw bad("root cluster \(boot.rootCluster) outside 2...\(clusters + 1)")
            }
        } else {
            guard rootEntries > 0 else { throw bad("FAT12/16 without root directory entries") }
            boot.kind = clusters < 4085 ? .fat12 : .fat16
        }
        guard (clusters + 2) * boot.kind.entryBits <= fatSize * bps * 8 else {
            throw bad("\(fatSize) sectors per FAT cannot map \(clusters) clusters")
        }
        return boot
    }
}
