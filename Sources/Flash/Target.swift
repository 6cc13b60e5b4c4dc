import Foundation

/// What TARGET is: a regular file (tests, VM images; created or grown as needed) or a block
/// device described from sysfs.
public enum Target: Equatable, Sendable {
    case file(path: String, size: UInt64?)
    case device(BlockDevice)

    /// Looks TARGET up; a path that does not exist yet becomes a new regular file.
    public static func inspect(_ path: String, system: SystemView) throws -> Target {
        var status = stat()
        guard stat(path, &status) == 0 else {
            guard errno == ENOENT else { throw FlashError.errno(path, "stat") }
            return .file(path: path, size: nil)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .file(path: path, size: UInt64(status.st_size))
        case S_IFBLK: return .device(try BlockDevice(path: path, number: DeviceNumber(UInt64(status.st_rdev)), system: system))
        default: throw FlashError.refused("\(path) is neither a regular file nor a block device")
        }
    }

    public var path: String {
        switch self {
        case .file(let path, _): path
        case .device(let device): device.path
        }
    }
}

/// A block device as `/sys/class/block/<name>/` describes it.
///
/// ```
/// /sys/class/block/sdb/ dev (8:16)  size (512-byte sectors)  removable (0|1)  device/model
///                       sdb1/ dev (8:17)  partition (1)
/// ```
public struct BlockDevice: Equatable, Sendable {
    public var path: String
    public var name: String
    public var number: DeviceNumber
    public var size: UInt64
    public var removable: Bool
    public var model: String
    /// Set when the node is a partition rather than a whole disk.
    public var isPartition: Bool
    /// The disk's partitions: name and device number.
    public var partitions: [Partition]

    public struct Partition: Equatable, Sendable {
        public var name: String
        public var number: DeviceNumber
    }

    /// Finds the sysfs entry whose `dev` is `number`.
    public init(path: String, number: DeviceNumber, system: SystemView) throws {
        let classDir = system.sysfsRoot + "/class/block"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: classDir)) ?? []
        guard let name = names.sorted().first(where: { system.read("\(classDir)/\($0)/dev") == number.description }) else {
            throw FlashError.refused("\(path): block device \(number) is not in \(classDir); cannot check it is safe to write")
        }
        let dir = "\(classDir)/\(name)"
        self.path = path
        self.name = name
        self.number = number
        size = (system.read(dir + "/size").flatMap { UInt64($0) } ?? 0) * 512
        removable = system.read(dir + "/removable") == "1"
        let vendor = system.read(dir + "/device/vendor") ?? ""
        let model = system.read(dir + "/device/model") ?? ""
        self.model = [vendor, model].filter { !$0.isEmpty }.joined(separator: " ")
        isPartition = FileManager.default.fileExists(atPath: dir + "/partition")
        let children = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        partitions = children.sorted().compactMap { child in
            guard FileManager.default.fileExists(atPath: "\(dir)/\(child)/partition"),
                  let number = system.read("\(dir)/\(child)/dev").flatMap({ DeviceNumber($0) }) else { return nil }
            return Partition(name: child, number: number)
        }
    }

    /// `/dev/sdb (SanDisk Ultra, 15.9 GB, removable)`.
    public var summary: String {
        let model = model.isEmpty ? "unknown model" : model
        return "\(path) (\(model), \(Self.decimalSize(size)), \(removable ? "removable" : "not removable"))"
    }

    static func decimalSize(_ bytes: UInt64) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
    }
}
