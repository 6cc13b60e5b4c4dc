import DiskFormats
import FuzzSupport

/// Fuzz target: the ext4 preflight `Ext4Volume` runs on the superblock (1024 bytes at byte 1024
/// of the partition) before libext2fs opens anything. The input is that superblock record.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard let superblock = Ext4Superblock(bytes: bytes) else { return 0 }
    _ = superblock.featureNames
    var passed: [Bool: Bool] = [:]
    for writable in [false, true] {
        do {
            try superblock.preflight(writable: writable)
            passed[writable] = true
        } catch let error as Ext4Error {
            _ = error.description
            passed[writable] = false
        } catch {
            fatalError("preflight threw \(error), not an Ext4Error")
        }
    }
    if passed[true] == true {
        FuzzDriver.check(passed[false] == true, "writable preflight passed but read-only failed")
        FuzzDriver.check(superblock.roCompat & ~Ext4Superblock.supportedROCompat == 0, "unknown ro_compat passed")
    }
    if passed[false] == true {
        FuzzDriver.check(superblock.incompat & ~Ext4Superblock.supportedIncompat == 0, "unknown incompat passed")
    }
    return 0
}

FuzzDriver.run(fuzz)
