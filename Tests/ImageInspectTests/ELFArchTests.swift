import Testing

import DiskFormats
import Ext4FS
@testable import ImageInspect

/// The first 52 bytes of an ELF header with the given class, data, machine and flags.
private func header(is64: Bool, little: Bool = true, machine: UInt16, flags: UInt32 = 0) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: ELFArch.headerSize)
    bytes[0...3] = [0x7F, 0x45, 0x4C, 0x46]
    bytes[4] = is64 ? 2 : 1
    bytes[5] = little ? 1 : 2
    bytes[6] = 1
    let machineBytes = little ? [UInt8(machine & 0xFF), UInt8(machine >> 8)] : [UInt8(machine >> 8), UInt8(machine & 0xFF)]
    bytes[0x12...0x13] = machineBytes[...]
    let flagsAt = is64 ? 0x30 : 0x24
    for index in 0..<4 { bytes[flagsAt + index] = UInt8(truncatingIfNeeded: flags >> (8 * index)) }
    return bytes
}

@Suite struct ELFArchTests {
    @Test func goldenHeaderBytes() {
        #expect(Array(header(is64: false, machine: 40, flags: 0x0500_0400)[0..<0x28]) == [
            0x7F, 0x45, 0x4C, 0x46, 0x01, 0x01, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0x28, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0x00, 0x04, 0x00, 0x05,
        ])
    }

    @Test func decodesTheThreeArchitectures() throws {
        #expect(try ELFArch.parse(header: header(is64: true, machine: 183)) == .aarch64)
        #expect(try ELFArch.parse(header: header(is64: true, machine: 62)) == .x86_64)
        #expect(try ELFArch.parse(header: header(is64: false, machine: 40, flags: 0x0500_0400)) == .armhf)
    }

    @Test func refusesOthers() {
        #expect(throws: ELFArchError.unsupported("ARM soft-float (armel)")) {
            try ELFArch.parse(header: header(is64: false, machine: 40, flags: 0x0500_0200))
        }
        #expect(throws: ELFArchError.unsupported("e_machine 3, 32-bit, little-endian")) {
            try ELFArch.parse(header: header(is64: false, machine: 3))
        }
        #expect(throws: ELFArchError.unsupported("e_machine 183, 64-bit, big-endian")) {
            try ELFArch.parse(header: header(is64: true, little: false, machine: 183))
        }
        #expect(throws: ELFArchError.notELF) { try ELFArch.parse(header: Array("#!/bin/sh\n".utf8)) }
        #expect(throws: ELFArchError.notELF) { try ELFArch.parse(header: Array(header(is64: true, machine: 62).prefix(40))) }
    }

    @Test func debianNames() throws {
        #expect(try ELFArch.fromDebian("arm64") == .aarch64)
        #expect(try ELFArch.fromDebian("amd64") == .x86_64)
        #expect(throws: ELFArchError.unsupported("dpkg architecture 'riscv64'")) { try ELFArch.fromDebian("riscv64") }
    }

    /// The layout `make binder` and the package share: DIR/<build>/usbip-binder, ARMv6 for armhf.
    @Test func binderPathInABuildsDirectory() {
        #expect(ELFArch.aarch64.binderPath(in: "/usr/lib/fpga-lab/binder") == "/usr/lib/fpga-lab/binder/aarch64/usbip-binder")
        #expect(ELFArch.armhf.binderPath(in: "build/binder") == "build/binder/armv6/usbip-binder")
        #expect(ELFArch.x86_64.binderPath(in: "b") == "b/x86_64/usbip-binder")
        #expect(ELFArch(named: "armv6") == .armhf && ELFArch(named: "arm64") == .aarch64 && ELFArch(named: "riscv64") == nil)
    }
}
