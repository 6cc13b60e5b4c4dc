import Foundation

/// The refusals before anything is written to a block device:
///
/// | check                                   | `--force` overrides |
/// |-----------------------------------------|---------------------|
/// | the disk `/` (or swap) lives on         | no                  |
/// | the disk or one of its partitions is mounted | no             |
/// | smaller than the image                  | no                  |
/// | a partition, not a whole disk           | yes                 |
/// | not removable                           | yes                 |
public enum SafetyCheck {
    /// Throws `FlashError.refused` with every reason found, or returns for a safe target.
    public static func check(_ device: BlockDevice, imageSize: UInt64?, force: Bool, system: SystemView) throws {
        var numbers = [device.name: device.number]
        for partition in device.partitions { numbers[partition.name] = partition.number }
        let names = Set(numbers.keys)
        let deviceNumbers = Set(numbers.values)
        func ours(_ source: String) -> String? {
            guard source.hasPrefix("/dev/") else { return nil }
            let resolved = URL(fileURLWithPath: source).resolvingSymlinksInPath().lastPathComponent
            let name = URL(fileURLWithPath: source).lastPathComponent
            return names.contains(resolved) ? resolved : names.contains(name) ? name : nil
        }

        var reasons: [String] = []
        let mounts = system.mounts().filter { deviceNumbers.contains($0.device) || ours($0.source) != nil }
        if let root = system.rootDevice, deviceNumbers.contains(root) {
            reasons.append("it holds the running system (/ is on \(numbers.first { $0.value == root }!.key))")
        } else if let rootMount = mounts.first(where: { $0.mountPoint == "/" }) {
            reasons.append("it holds the running system (/ is \(rootMount.source))")
        }
        if !mounts.isEmpty {
            let list = mounts.map { "\($0.source) on \($0.mountPoint)" }.joined(separator: ", ")
            reasons.append("it is mounted: \(list); unmount first")
        }
        let swaps = system.swapAreas().compactMap(ours)
        if !swaps.isEmpty { reasons.append("it holds active swap (\(swaps.joined(separator: ", ")))") }
        if let imageSize, device.size < imageSize {
            reasons.append("it is smaller (\(device.size) bytes) than the image (\(imageSize) bytes)")
        }
        if !force {
            if device.isPartition { reasons.append("it is a partition, not a whole disk (pass --force to write it anyway)") }
            if !device.removable { reasons.append("it is not a removable disk (pass --force if you are sure)") }
        }
        guard reasons.isEmpty else {
            throw FlashError.refused("refusing to write \(device.summary): " + reasons.joined(separator: "; "))
        }
    }
}
