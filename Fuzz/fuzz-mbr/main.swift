import DiskFormats
import FuzzSupport

/// Fuzz target: the partition table readers as `build-image` and `inspect` run them on a base
/// image. The input is the start of a disk image (sector 0; for GPT also the header at LBA 1 and
/// the entry array); the image is the input followed by zeros up to `imageSize` bytes, so a
/// table made by sfdisk for a 64 MiB disk points inside it.
///
/// A GPT is guarded by two CRC32s that random mutations almost never get right, so for inputs
/// of even length the harness first rewrites both to match: the fuzzer then reaches the entry
/// parsing and validation behind them, and odd-length inputs still test the CRC checks.
let imageSize = 64 << 20
nonisolated(unsafe) let file = MemoryFile(name: "fuzz-mbr")

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = FuzzDriver.bytes(data, size)
    if bytes.count % 2 == 0 { fixGPTChecksums(&bytes) }
    if let mbr = try? MBR.decode(bytes) {
        FuzzDriver.check(mbr.entries.count == 4, "MBR with \(mbr.entries.count) slots")
        if (try? mbr.validate(imageSize: UInt64(imageSize))) != nil {
            for entry in mbr.usedEntries where entry.type != 0xEE {
                FuzzDriver.check(entry.range.end <= UInt64(imageSize), "valid MBR entry \(entry.index) past the end")
            }
        }
    }
    file.replace(with: bytes, size: imageSize)
    guard let image = try? ImageFile(path: file.path, writable: false) else {
        fatalError("cannot open the memory file \(file.path)")
    }
    guard let table = try? PartitionTable.read(from: image) else { return 0 }
    for partition in table.partitions {
        FuzzDriver.check(partition.range.end <= image.size, "partition \(partition) ends past the image")
        _ = partition.description
    }
    if let boot = table.bootPartition { FuzzDriver.check(table.partitions.contains(boot), "boot partition not listed") }
    if let root = table.rootPartition { FuzzDriver.check(table.partitions.contains(root), "root partition not listed") }
    return 0
}

/// Rewrites the entry array CRC (header offset 88) and the header CRC (offset 16) of a GPT
/// header at LBA 1 (the array read as the image holds it: the input, then zeros).
func fixGPTChecksums(_ bytes: inout [UInt8]) {
    let header = 512
    guard bytes.count >= header + 92, Array(bytes[header..<header + 8]) == Array("EFI PART".utf8) else { return }
    func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
    func put(_ at: Int, _ value: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
    let lba = u32(header + 72), high = u32(header + 76)
    let count = Int(u32(header + 80)), entrySize = Int(u32(header + 84))
    let arrayBytes = count <= 1 << 14 && entrySize <= 1 << 10 ? count * entrySize : Int.max
    let start = Int(lba) * 512, end = start &+ arrayBytes
    if high == 0, lba < 1 << 20, arrayBytes <= 1 << 16 {
        let present = Array(bytes[min(start, bytes.count)..<min(end, bytes.count)])
        put(header + 88, crc32(present + [UInt8](repeating: 0, count: arrayBytes - present.count)))
    }
    let size = Int(u32(header + 12))
    guard (92...512).contains(size), bytes.count >= header + size else { return }
    put(header + 16, 0)
    put(header + 16, crc32(bytes[header..<header + size]))
}

/// CRC-32 (IEEE 802.3, reflected), as GPT uses it.
let crcTable: [UInt32] = (0..<256).map { n in
    (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
}

func crc32<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt32 {
    ~bytes.reduce(0xFFFF_FFFF as UInt32) { crc, byte in crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
}

FuzzDriver.run(fuzz)
