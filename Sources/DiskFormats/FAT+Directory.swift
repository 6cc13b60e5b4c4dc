/// A 32-byte short (8.3) directory entry.
///
/// ```
/// 0  11 name: 8 base + 3 extension, space padded, upper case (0xE5 first byte: deleted,
///       0x00: end of directory, 0x05: a real 0xE5)
/// 11  1 attributes: 0x01 RO, 0x02 hidden, 0x04 system, 0x08 volume label, 0x10 dir, 0x20 archive
/// 12  1 case flags (NT): 0x08 base shown lower case, 0x10 extension shown lower case
/// 13  1 creation time, 10 ms units
/// 14  2 creation time     time: bits 15-11 hour, 10-5 minute, 4-0 seconds / 2
/// 16  2 creation date     date: bits 15-9 year - 1980, 8-5 month, 4-0 day
/// 18  2 last access date
/// 20  2 first cluster, high 16 bits (FAT32)
/// 22  2 modification time
/// 24  2 modification date
/// 26  2 first cluster, low 16 bits
/// 28  4 file size
/// ```
struct FATShortEntry: Equatable {
    static let size = 32
    static let attrReadOnly: UInt8 = 0x01
    static let attrVolumeLabel: UInt8 = 0x08
    static let attrDirectory: UInt8 = 0x10
    static let attrArchive: UInt8 = 0x20
    static let lowerBase: UInt8 = 0x08
    static let lowerExtension: UInt8 = 0x10

    var name: [UInt8]
    var attributes: UInt8
    var caseFlags: UInt8 = 0
    var creationTenths: UInt8 = 0
    var creationTime: UInt16 = 0
    var creationDate: UInt16 = 0
    var accessDate: UInt16 = 0
    var firstCluster: UInt32 = 0
    var modificationTime: UInt16 = 0
    var modificationDate: UInt16 = 0
    var size: UInt32 = 0

    /// A new entry with every timestamp set from `unixSeconds`.
    init(name: [UInt8], attributes: UInt8, caseFlags: UInt8, firstCluster: UInt32, size: UInt32, unixSeconds: UInt32) {
        self.name = name
        self.attributes = attributes
        self.caseFlags = caseFlags
        self.firstCluster = firstCluster
        self.size = size
        setTimes(unixSeconds)
    }

    init(decoding b: [UInt8], at o: Int) {
        name = Array(b[o..<o + 11])
        attributes = b[o + 11]
        caseFlags = b[o + 12]
        creationTenths = b[o + 13]
        creationTime = BytesLE.u16(b, o + 14)
        creationDate = BytesLE.u16(b, o + 16)
        accessDate = BytesLE.u16(b, o + 18)
        firstCluster = UInt32(BytesLE.u16(b, o + 20)) << 16 | UInt32(BytesLE.u16(b, o + 26))
        modificationTime = BytesLE.u16(b, o + 22)
        modificationDate = BytesLE.u16(b, o + 24)
        size = BytesLE.u32(b, o + 28)
    }

    func encode() -> [UInt8] {
        var b = name + [UInt8](repeating: 0, count: 21)
        b[11] = attributes
        b[12] = caseFlags
        b[13] = creationTenths
        BytesLE.put16(&b, 14, creationTime)
        BytesLE.put16(&b, 16, creationDate)
        BytesLE.put16(&b, 18, accessDate)
        BytesLE.put16(&b, 20, UInt16(firstCluster >> 16))
        BytesLE.put16(&b, 22, modificationTime)
        BytesLE.put16(&b, 24, modificationDate)
        BytesLE.put16(&b, 26, UInt16(firstCluster & 0xFFFF))
        BytesLE.put32(&b, 28, size)
        return b
    }

    /// Sets creation, access and modification stamps (2 s resolution, tenths 0).
    mutating func setTimes(_ unixSeconds: UInt32) {
        let (date, time) = FATTime.encode(unixSeconds)
        creationTenths = 0
        creationTime = time
        creationDate = date
        accessDate = date
        modificationTime = time
        modificationDate = date
    }

    var isDirectory: Bool { attributes & Self.attrDirectory != 0 }

    /// The 8.3 name as stored: "CONFIG.TXT".
    var storedName: String { display(lowerBase: false, lowerExtension: false) }

    /// The 8.3 name shown with its case flags: "config.txt".
    var shownName: String {
        display(lowerBase: caseFlags & Self.lowerBase != 0, lowerExtension: caseFlags & Self.lowerExtension != 0)
    }

    private func display(lowerBase: Bool, lowerExtension: Bool) -> String {
        var raw = name
        if raw[0] == 0x05 { raw[0] = 0xE5 }
        func part(_ bytes: ArraySlice<UInt8>, _ lower: Bool) -> String {
            let trimmed = bytes.reversed().drop { $0 == 0x20 }.reversed()
            let text = String(decoding: trimmed.map { $0 < 0x80 ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
            return lower ? text.lowercased() : text
        }
        let base = part(raw[0..<8], lowerBase), ext = part(raw[8..<11], lowerExtension)
        return ext.isEmpty ? base : base + "." + ext
    }
}

/// FAT timestamps, taken as UTC (the caller passes SOURCE_DATE_EPOCH or its own clock).
enum FATTime {
    /// (date, time) for `unixSeconds`, clamped to the FAT range 1980-01-01 ... 2107-12-31.
    static func encode(_ unixSeconds: UInt32) -> (date: UInt16, time: UInt16) {
        let minimum: UInt32 = 315_532_800  // 1980-01-01T00:00:00Z
        let seconds = max(unixSeconds, minimum)
        let days = Int(seconds / 86400), rest = Int(seconds % 86400)
        let (year, month, day) = civil(fromDays: days)
        let date = UInt16(year - 1980) << 9 | UInt16(month) << 5 | UInt16(day)
        let time = UInt16(rest / 3600) << 11 | UInt16(rest / 60 % 60) << 5 | UInt16(rest % 60 / 2)
        return (date, time)
    }

    /// Unix seconds of a FAT (date, time); a zero date reads as 1980-01-01. FAT dates run to
    /// 2107-12-31, UInt32 seconds to 2106-02-07T06:28:15Z: later dates read as that moment.
    static func decode(date: UInt16, time: UInt16) -> UInt32 {
        let year = 1980 + Int(date >> 9), month = max(1, Int(date >> 5 & 0xF)), day = max(1, Int(date & 0x1F))
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int(time >> 11) * 3600 + Int(time >> 5 & 0x3F) * 60 + Int(time & 0x1F) * 2
        return UInt32(clamping: days * 86400 + seconds)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysFromCivil(year y0: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
