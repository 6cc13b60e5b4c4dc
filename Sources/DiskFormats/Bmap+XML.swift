import Digests
import Foundation

/// The bmaptool 2.0 XML writer, byte for byte what `bmaptool create` writes.
///
/// bmaptool writes the header with blank space where the mapped-block figures go,
/// the ranges, then seeks back and overwrites the blanks; finally it hashes the
/// whole file while `<BmapFileChecksum>` holds as many ASCII '0's as the digest has
/// hex digits, and writes the digest over the zeros. `bmaptool copy` checks that
/// hash the same way, and checks each range's digest against the image.
///
/// ```
/// <bmap version="2.0">
///     <ImageSize> 67108864 </ImageSize>
///     <BlockSize> 4096 </BlockSize>
///     <BlocksCount> 16384 </BlocksCount>
///     <MappedBlocksCount> 520 </MappedBlocksCount>
///     <ChecksumType> sha256 </ChecksumType>
///     <BmapFileChecksum> <64 hex digits> </BmapFileChecksum>
///     <BlockMap>
///         <Range chksum="<64 hex digits>"> 0-3 </Range>     inclusive block numbers
///         <Range chksum="..."> 9 </Range>                    single block
///     </BlockMap>
/// </bmap>
/// ```
extension Bmap {
    static let headerComment = """
        <?xml version="1.0" ?>
        <!-- This file contains the block map for an image file, which is basically
             a list of useful (mapped) block numbers in the image file. In other words,
             it lists only those blocks which contain data (boot sector, partition
             table, file-system metadata, files, directories, extents, etc). These
             blocks have to be copied to the target device. The other blocks do not
             contain any useful data and do not have to be copied to the target
             device.

             The block map an optimization which allows to copy or flash the image to
             the image quicker than copying of flashing the entire image. This is
             because with bmap less data is copied: <MappedBlocksCount> blocks instead
             of <BlocksCount> blocks.

             Besides the machine-readable data, this file contains useful commentaries
             which contain human-readable information like image size, percentage of
             mapped data, etc.

             The 'version' attribute is the block map file format version in the
             'major.minor' format. The version major number is increased whenever an
             incompatible block map format change is made. The minor number changes
             in case of minor backward-compatible changes. -->


        """

    /// The XML file, as format 2.0 with SHA-256 checksums (`version` and
    /// `checksumType` of the value are not consulted).
    public func xml() -> [UInt8] {
        let imageHuman = Self.humanSize(imageSize)
        var text = Self.headerComment
        text += "<bmap version=\"2.0\">\n"
        text += "    <!-- Image size in bytes: \(imageHuman) -->\n"
        text += "    <ImageSize> \(imageSize) </ImageSize>\n\n"
        text += "    <!-- Size of a block in bytes -->\n"
        text += "    <BlockSize> \(blockSize) </BlockSize>\n\n"
        text += "    <!-- Count of blocks in the image file -->\n"
        text += "    <BlocksCount> \(blocksCount) </BlocksCount>\n\n"
        text += "    <!-- Count of mapped blocks: "
        let mappedFigurePosition = text.utf8.count
        text += String(repeating: " ", count: imageHuman.utf8.count) + " or " + String(repeating: " ", count: 6) + "   -->\n"
        text += "    <MappedBlocksCount> "
        let mappedCountPosition = text.utf8.count
        text += String(repeating: " ", count: String(blocksCount).count) + " </MappedBlocksCount>\n\n"
        text += "    <!-- Type of checksum used in this file -->\n"
        text += "    <ChecksumType> sha256 </ChecksumType>\n\n"
        text += "    <!-- The checksum of this bmap file. When it is calculated, the value of\n"
        text += "         the checksum has be zero (all ASCII \"0\" symbols).  -->\n"
        text += "    <BmapFileChecksum> "
        let checksumPosition = text.utf8.count
        text += String(repeating: "0", count: 64) + " </BmapFileChecksum>\n\n"
        text += "    <!-- The block map which consists of elements which may either be a\n"
        text += "         range of blocks or a single block. The 'chksum' attribute\n"
        text += "         (if present) is the checksum of this blocks range. -->\n"
        text += "    <BlockMap>\n"
        for range in ranges {
            let attribute = range.checksum.map { " chksum=\"\($0)\"" } ?? ""
            let blocks = range.first == range.last ? "\(range.first)" : "\(range.first)-\(range.last)"
            text += "        <Range\(attribute)> \(blocks) </Range>\n"
        }
        text += "    </BlockMap>\n</bmap>\n"

        var bytes = Array(text.utf8)
        let mapped = mappedBlocksCount
        let percent = blocksCount == 0 ? 0 : Double(mapped) * 100.0 / Double(blocksCount)
        let figure = "\(Self.humanSize(mapped * blockSize)) or \(String(format: "%.1f", percent))%"
        Self.overwrite(&bytes, at: mappedFigurePosition, with: Array(figure.utf8))
        Self.overwrite(&bytes, at: mappedCountPosition, with: Array(String(mapped).utf8))
        let digest = Hex.encode(SHA256.hash(data: bytes))
        Self.overwrite(&bytes, at: checksumPosition, with: Array(digest.utf8))
        return bytes
    }

    /// The file's own checksum, as written into `<BmapFileChecksum>`.
    public var fileChecksum: String {
        let bytes = xml()
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.range(of: "<BmapFileChecksum> ") else { return "" }
        return String(text[open.upperBound...].prefix(64))
    }

    /// Writes over `bytes` from `position` like a seek-and-write into a file.
    static func overwrite(_ bytes: inout [UInt8], at position: Int, with new: [UInt8]) {
        let end = position + new.count
        if end > bytes.count { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
        bytes.replaceSubrange(position..<end, with: new)
    }

    /// bmaptool's `human_size`: bytes below 512, else KiB/MiB/GiB/TiB with one decimal.
    public static func humanSize(_ size: UInt64) -> String {
        if size == 1 { return "1 byte" }
        if size < 512 { return "\(size) bytes" }
        var value = Double(size)
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            value /= 1024.0
            if value < 1024 { return String(format: "%.1f", value) + " " + unit }
        }
        return String(format: "%.1f", value) + " EiB"
    }
}
