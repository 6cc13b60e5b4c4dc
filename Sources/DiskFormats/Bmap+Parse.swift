import Digests

/// Reading bmap files of format 1.0 to 2.x, as `bmaptool copy` does.
///
/// | version  | checksum type        | range attribute | file checksum element |
/// |----------|----------------------|-----------------|-----------------------|
/// | 1.0-1.2  | none                 | -               | -                     |
/// | 1.3      | sha1                 | `sha1`          | `BmapFileSHA1`        |
/// | 1.4, 2.x | `<ChecksumType>`     | `chksum`        | `BmapFileChecksum`    |
///
/// The file checksum is verified over the file with the digest's characters
/// replaced by '0's.
extension Bmap {
    /// Parses and verifies a bmap file.
    public static func parse(_ bytes: [UInt8]) throws -> Bmap {
        let root = try BmapXMLElement.parseDocument(bytes)
        guard root.name == "bmap", let version = root.attributes["version"] else {
            throw BmapError.malformed("the root element is not <bmap version=...>")
        }
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 2, parts[0] == 1 || parts[0] == 2 else { throw BmapError.unsupportedVersion(version) }
        let (major, minor) = (parts[0], parts[1])

        func number(_ name: String) throws -> UInt64 {
            guard let text = root.child(name)?.trimmedText, let value = UInt64(text) else {
                throw BmapError.malformed("<\(name)> is missing or not a number")
            }
            return value
        }
        let imageSize = try number("ImageSize")
        let blockSize = try number("BlockSize")
        guard blockSize > 0 else { throw BmapError.malformed("<BlockSize> is 0") }
        let blocksCount = try number("BlocksCount")
        guard blocksCount == (imageSize + blockSize - 1) / blockSize else {
            throw BmapError.malformed("image size \(imageSize) does not match \(blocksCount) blocks of \(blockSize) bytes")
        }

        let type: ChecksumType?
        let rangeAttribute: String
        let fileElement: String
        if major == 2 || minor >= 4 {
            let name = root.child("ChecksumType")?.trimmedText ?? ""
            guard let known = ChecksumType(rawValue: name) else { throw BmapError.malformed("checksum type '\(name)' is not supported") }
            (type, rangeAttribute, fileElement) = (known, "chksum", "BmapFileChecksum")
        } else if minor == 3 {
            (type, rangeAttribute, fileElement) = (.sha1, "sha1", "BmapFileSHA1")
        } else {
            (type, rangeAttribute, fileElement) = (nil, "", "")
        }
        if let type {
            guard let expected = root.child(fileElement)?.trimmedText, expected.count == type.hexLength else {
                throw BmapError.malformed("<\(fileElement)> is missing or has the wrong length")
            }
            try verifyFileChecksum(bytes, expected: expected, type: type)
        }

        guard let map = root.child("BlockMap") else { throw BmapError.malformed("<BlockMap> is missing") }
        var ranges: [Range] = []
        for element in map.children where element.name == "Range" {
            let text = element.trimmedText
            let bounds = text.split(separator: "-", maxSplits: 1).map { UInt64(BmapXMLElement.trim($0)) }
            guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, first <= last, last < blocksCount else {
                throw BmapError.malformed("bad range '\(text)'")
            }
            ranges.append(Range(first: first, last: last, checksum: type == nil ? nil : element.attributes[rangeAttribute]))
        }
        return Bmap(version: version, imageSize: imageSize, blockSize: blockSize, checksumType: type, ranges: ranges)
    }

    static func verifyFileChecksum(_ bytes: [UInt8], expected: String, type: ChecksumType) throws {
        let needle = Array(expected.utf8)
        guard let at = bytes.firstRange(of: needle) else {
            throw BmapError.malformed("file checksum not found")
        }
        var zeroed = bytes
        zeroed.replaceSubrange(at, with: [UInt8](repeating: UInt8(ascii: "0"), count: needle.count))
        let actual = Hex.encode(type == .sha256 ? SHA256.hash(data: zeroed) : Insecure.SHA1.hash(data: zeroed))
        guard actual == expected.lowercased() else {
            throw BmapError.fileChecksumMismatch(expected: expected, actual: actual)
        }
    }
}
