import DiskFormats
import Ext4FS
/// The CPU architecture of a root filesystem, which picks the usbip-binder build.
///
/// Read from the ELF header of `/usr/bin/env` (symlinks followed inside the image);
/// when that file is absent, the first line of dpkg's `var/lib/dpkg/arch`.
///
/// ```
/// ELF header (bytes)
///   0x00  7F 'E' 'L' 'F'      magic
///   0x04  EI_CLASS            1 = 32-bit, 2 = 64-bit
///   0x05  EI_DATA             1 = little-endian, 2 = big-endian
///   0x12  u16 e_machine       3 i386, 40 ARM, 62 x86-64, 183 AArch64
///   0x24  u32 e_flags         (32-bit) ARM: 0x400 = hard-float ABI
///   0x30  u32 e_flags         (64-bit)
/// ```
public enum ELFArch: String, Sendable, CaseIterable {
    case aarch64
    case armhf
    case x86_64

    /// Debian's architecture name (`dpkg --print-architecture`).
    public var debianName: String {
        switch self {
        case .aarch64: "arm64"
        case .armhf: "armhf"
        case .x86_64: "amd64"
        }
    }

    /// The directory of its usbip-binder build (`make binder`: build/binder/NAME; installed:
    /// PREFIX/lib/fpga-lab/binder/NAME). armhf's is ARMv6, which runs on every Pi.
    public var binderBuild: String {
        switch self {
        case .aarch64: "aarch64"
        case .armhf: "armv6"
        case .x86_64: "x86_64"
        }
    }

    /// Its usbip-binder build in a builds directory (`build/binder`, `PREFIX/lib/fpga-lab/binder`):
    /// `DIR/<binderBuild>/usbip-binder`, whether or not it is there.
    public func binderPath(in directory: String) -> String { "\(directory)/\(binderBuild)/usbip-binder" }

    /// An architecture as a user names it: the binder build's name or Debian's.
    public init?(named name: String) {
        guard let arch = Self.allCases.first(where: { $0.binderBuild == name || $0.debianName == name || $0.rawValue == name }) else {
            return nil
        }
        self = arch
    }

    /// The header bytes needed to decide.
    public static let headerSize = 52

    /// Decodes the architecture from the first bytes of an ELF file.
    public static func parse(header: [UInt8]) throws -> ELFArch {
        guard header.count >= headerSize, header[0] == 0x7F, header[1] == 0x45, header[2] == 0x4C, header[3] == 0x46 else {
            throw ELFArchError.notELF
        }
        let is64 = header[4] == 2
        let little = header[5] == 1
        func u16(_ at: Int) -> UInt16 {
            little ? UInt16(header[at]) | UInt16(header[at + 1]) << 8 : UInt16(header[at]) << 8 | UInt16(header[at + 1])
        }
        func u32(_ at: Int) -> UInt32 {
            let bytes = header[at..<at + 4].map(UInt32.init)
            return little
                ? bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24
                : bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]
        }
        let machine = u16(0x12)
        switch (machine, is64, little) {
        case (183, true, true): return .aarch64
        case (62, true, true): return .x86_64
        case (40, false, true):
            guard u32(0x24) & 0x400 != 0 else { throw ELFArchError.unsupported("ARM soft-float (armel)") }
            return .armhf
        default:
            throw ELFArchError.unsupported("e_machine \(machine), \(is64 ? 64 : 32)-bit, \(little ? "little" : "big")-endian")
        }
    }

    /// Maps a Debian architecture name (`arm64`, `armhf`, `amd64`).
    public static func fromDebian(_ name: String) throws -> ELFArch {
        guard let arch = allCases.first(where: { $0.debianName == name }) else {
            throw ELFArchError.unsupported("dpkg architecture '\(name)'")
        }
        return arch
    }

    /// Detects the architecture of the root filesystem in `volume`.
    public static func detect(in volume: Ext4Volume) throws -> ELFArch {
        if let env = try volume.readFile("usr/bin/env") {
            return try parse(header: Array(env.prefix(headerSize)))
        }
        if let arch = try volume.readFile("var/lib/dpkg/arch") {
            let first = String(decoding: arch, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
            return try fromDebian(first.trimmingCharacters())
        }
        throw ELFArchError.undetectable
    }
}

/// Why an image's architecture could not be told.
public enum ELFArchError: Error, Equatable, CustomStringConvertible {
    case notELF
    case unsupported(String)
    case undetectable

    public var description: String {
        switch self {
        case .notELF: "rootfs: /usr/bin/env is not an ELF file"
        case .unsupported(let what): "rootfs: unsupported architecture: \(what)"
        case .undetectable: "rootfs: cannot tell the architecture: neither /usr/bin/env nor /var/lib/dpkg/arch exists"
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        var text = self
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
