import DiskFormats
import FuzzSupport

/// Fuzz target: the FAT reader and writer as `build-image` and `inspect` use them on a base
/// image's boot partition: open (boot sector, BPB, FAT), list every directory, read every
/// file, compute the allocated ranges (the bmap), then write config.txt and a file in a new
/// directory and read them back.
///
/// The input is a sparse volume, a list of chunks, each `offset u32 LE | length u32 LE | bytes`
/// (a chunk cut short by the end of the input keeps what is there). The volume is that many
/// bytes at those offsets and zeros elsewhere, up to the size its BPB claims (at most
/// `maxVolume`), so a seed of a real 33 MiB `mkfs.vfat -F 32` volume needs a few KiB: the
/// boot sector, FSInfo, the first FAT sectors and the clusters in use.
let maxVolume = 64 << 20
let stamp: UInt32 = 1_700_000_000
nonisolated(unsafe) let file = MemoryFile(name: "fuzz-fat")

/// Writes the chunks of `input` into `file`, which holds nothing before; returns the size of
/// the volume they make (the end of the last chunk).
func writeChunks(_ input: [UInt8], into file: MemoryFile) -> Int {
    var end = 0, at = 0
    func u32(_ i: Int) -> Int { Int(input[i]) | Int(input[i + 1]) << 8 | Int(input[i + 2]) << 16 | Int(input[i + 3]) << 24 }
    while input.count - at >= 8 {
        let offset = u32(at), length = u32(at + 4)
        let chunk = Array(input[(at + 8)...].prefix(length))
        at += 8 + chunk.count
        guard offset + chunk.count <= maxVolume else { continue }
        file.write(chunk, at: offset)
        end = max(end, offset + chunk.count)
    }
    return end
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    file.resize(0)
    let end = writeChunks(input, into: file)
    let boot = (try? FATBootSector.decode(file.read(at: 0, count: 512))) ?? nil
    let claimed = boot.map { $0.totalSectors * $0.bytesPerSector } ?? 0
    file.resize(min(max(claimed, end), maxVolume))
    guard let image = try? ImageFile(path: file.path, writable: true) else {
        fatalError("cannot open the memory file \(file.path)")
    }
    let range = ByteRange(offset: 0, length: image.size)
    guard let volume = try? FATVolume(image: image, range: range) else { return 0 }
    _ = volume.label
    var budget = 256
    walk(volume, "", depth: 0, budget: &budget)
    if let ranges = try? volume.allocatedRanges() {
        for allocated in ranges {
            FuzzDriver.check(allocated.end <= range.end, "allocated range \(allocated) outside the volume \(range)")
        }
    }
    let config = Array("dtoverlay=dwc2,dr_mode=host\n".utf8)
    if (try? volume.writeFile("config.txt", config, modified: stamp)) != nil {
        _ = try? volume.readFile("config.txt")
    }
    if (try? volume.makeDirectory("fpga-lab/overlays", modified: stamp)) != nil {
        _ = try? volume.writeFile("fpga-lab/overlays/Fuzz Long Name.dtbo", Array(input.prefix(3000)), modified: stamp)
        _ = try? volume.list("fpga-lab/overlays")
    }
    return 0
}

/// Lists `path` and everything below it, reading each file, until `budget` entries are seen.
func walk(_ volume: FATVolume, _ path: String, depth: Int, budget: inout Int) {
    guard depth < 8, let entries = try? volume.list(path) else { return }
    for entry in entries {
        budget -= 1
        guard budget > 0 else { return }
        let child = path.isEmpty ? entry.name : path + "/" + entry.name
        if entry.isDirectory {
            walk(volume, child, depth: depth + 1, budget: &budget)
        } else if let content = try? volume.readFile(child), isUnique(entry, in: entries) {
            FuzzDriver.check(content.count == Int(entry.size), "\(child): read \(content.count) bytes, size says \(entry.size)")
        }
    }
}

/// Whether a path lookup of `entry.name` can only find `entry` (names on a corrupt volume may
/// repeat, hold a '/', or equal another entry's short name).
func isUnique(_ entry: FATDirectoryEntry, in entries: [FATDirectoryEntry]) -> Bool {
    let wanted = entry.name.uppercased()
    guard !entry.name.contains("/") else { return false }
    return entries.filter { $0.name.uppercased() == wanted || $0.shortName == wanted }.count == 1
}

FuzzDriver.run(fuzz)
