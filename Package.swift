// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "fpga-lab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fpga-lab", targets: ["fpga-lab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(name: "fpga-lab", dependencies: ["FPGALabCLI"]),
        .target(
            name: "FPGALabCLI",
            dependencies: [
                "LabConfig", "BootFiles", "Overlay", "Archives", "Artifacts", "DiskFormats", "ImageInspect", "ImageBuild", "ClientRecipe", "Flash", "USBIPClient", "USBIPWire", "Progress",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What a Raspberry Pi's boot files mean: the board models, config.txt as each model reads it,
        // cmdline.txt, the image manifest, the first-boot facts. Foundation only: inspect reads
        // them without the lab config's YAML.
        .target(name: "BootFiles", dependencies: ["Digests", "CBuildVersion"]),
        // The version string make gives the build (scripts/version.sh: `git describe`).
        .target(name: "CBuildVersion"),
        .target(name: "LabConfig", dependencies: ["BootFiles", "BinderConf", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "Overlay",
            dependencies: [
                "LabConfig", "BootFiles", "BinderConf", "Archives", "SystemIO", .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                "Digests",
            ],
            plugins: ["EmbedResources"]
        ),
        .target(
            name: "ClientRecipe",
            dependencies: ["LabConfig", "Overlay", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(name: "Archives", dependencies: ["CArchive", "CLzma", "SystemIO"]),
        // The artifact layer build-image, inspect and flash share: container sniffing, the zip
        // member policy, downloads. Free of Yams, mustache and libext2fs.
        .target(name: "Artifacts", dependencies: ["Archives", "Digests", "DiskFormats", "SystemIO"]),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "Archives", "Digests", "SystemIO", "TestSupport"]),
        // USB/IP codec. No Foundation: the same sources are compiled into the
        // Embedded Swift usbip-binder (see mk/binder.mk).
        .target(name: "USBIPWire"),
        // binder.conf (the renderer writes it, usbip-binder reads it) and the one CIDR. No
        // Foundation either: compiled into usbip-binder with USBIPWire (mk/binder.mk).
        .target(name: "BinderConf", dependencies: ["USBIPWire"]),
        .testTarget(name: "BinderConfTests", dependencies: ["BinderConf", "Overlay", "LabConfig"]),
        // System calls with errno as a typed value: read/write-all at offsets, EINTR handled once,
        // sparse-file extents. No Foundation.
        .target(name: "SystemIO"),
        // The on-disk formats, over (ImageFile, ByteRange): MBR, GPT, FAT, the ext4 superblock
        // preflight, bmap. No app dependencies, no libext2fs: flash and the fuzz targets use it.
        .target(name: "DiskFormats", dependencies: ["SystemIO", "Digests"]),
        // An ext4 partition read and written through libext2fs, bounded to its byte range.
        .target(name: "Ext4FS", dependencies: ["DiskFormats", "CExt2fs", "Ext2fsImageIO"]),
        // What an image holds, read-only: partitions, file systems, config.txt per board, the
        // architecture, the manifest, how it boots the first time (inspect, and build-image's
        // first step). No YAML, no templates.
        .target(name: "ImageInspect", dependencies: ["DiskFormats", "Ext4FS", "BootFiles"]),
        // build-image's pipeline: the base's facts (ImageInspect) -> render -> write the overlay
        // into the image's volumes -> bmap, compress, checksums, publish.
        .target(
            name: "ImageBuild",
            dependencies: ["DiskFormats", "Ext4FS", "ImageInspect", "BootFiles", "SystemIO", "Archives", "Artifacts", "Overlay", "LabConfig", "Digests", "CLinux", "Progress"]
        ),
        .target(
            name: "Flash",
            dependencies: ["DiskFormats", "SystemIO", "Archives", "Artifacts", "Digests", "CLinux", "Progress"]
        ),
        // Phases, bytes done, phase times and the one terminal bar: build-image and flash report
        // through it. Foundation only.
        .target(name: "Progress"),
        .testTarget(name: "ProgressTests", dependencies: ["Progress"]),
        // SHA-256 / SHA-1 from the system's libcrypto: swift-crypto's BoringSSL took most of a cold
        // release build (about 400 C files), for two digests.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "Digests", dependencies: ["CCrypto", "SystemIO"]),
        .systemLibrary(name: "CExt2fs", pkgConfig: "ext2fs", providers: [.apt(["libext2fs-dev"])]),
        .target(name: "Ext2fsImageIO", dependencies: ["CExt2fs"]),
        // Linux calls glibc declares only under _GNU_SOURCE (sync_file_range).
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CLzma", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        .systemLibrary(
            name: "CArchive",
            pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]
        ),
        .executableTarget(name: "EmbedGen"),
        .plugin(name: "EmbedResources", capability: .buildTool(), dependencies: ["EmbedGen"]),

        .target(name: "USBIPClient", dependencies: ["USBIPWire", "LabConfig", "CLinux", "SystemIO"]),
        .testTarget(name: "USBIPClientTests", dependencies: ["USBIPClient", "USBIPWire", "LabConfig", "SystemIO"]),

        .testTarget(name: "LabConfigTests", dependencies: ["LabConfig", "BootFiles"]),
        // Shared by the test targets only: running tools, golden directories.
        .target(name: "TestSupport", dependencies: ["Overlay"], path: "Tests/TestSupport"),
        .testTarget(name: "OverlayTests", dependencies: ["Overlay", "BootFiles", "LabConfig", "Digests", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "ArchivesTests", dependencies: ["Archives"]),
        .testTarget(name: "ClientRecipeTests", dependencies: ["ClientRecipe", "Overlay", "LabConfig", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "CLITests", dependencies: ["FPGALabCLI", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "USBIPWireTests", dependencies: ["USBIPWire"]),
        .testTarget(name: "FlashTests", dependencies: ["Flash", "Artifacts", "DiskFormats", "Digests"]),
        .testTarget(name: "DigestsTests", dependencies: ["Digests"]),
        .testTarget(name: "DiskFormatsTests", dependencies: ["DiskFormats", "SystemIO"], exclude: ["Fixtures"]),
        .testTarget(name: "Ext4FSTests", dependencies: ["Ext4FS"]),
        .testTarget(name: "ImageInspectTests", dependencies: ["ImageInspect", "Ext4FS", "DiskFormats"]),
        .testTarget(name: "ImageBuildTests", dependencies: ["ImageBuild", "DiskFormats", "Ext4FS", "SystemIO"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Overlay", "LabConfig", "BootFiles", "Archives", "Artifacts", "DiskFormats", "Ext4FS", "ImageInspect", "ImageBuild", "ClientRecipe", "Flash", "USBIPClient", "USBIPWire", "TestSupport",
                "CExt2fs", "Ext2fsImageIO", "Progress",
                "Digests",
            ]
        ),
    ]
)

// Fuzz targets (issue 10, `make fuzz`, mk/fuzz.mk): libFuzzer executables, built in their own
// scratch path. Declared only when FPGA_LAB_FUZZ=1, because they link against libFuzzer, which
// the normal build and `swift test` must not. The modules under test get libFuzzer's coverage
// instrumentation and AddressSanitizer; their dependencies and the build tools (EmbedGen) stay
// as they are.
if Context.environment["FPGA_LAB_FUZZ"] == "1" {
    let sanitize: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    for target in package.targets where ["DiskFormats", "USBIPWire", "BinderConf", "BootFiles", "LabConfig"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + sanitize
    }
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("fuzz-mbr", ["DiskFormats"]),
        ("fuzz-fat", ["DiskFormats"]),
        ("fuzz-ext4", ["DiskFormats"]),
        ("fuzz-usbip", ["USBIPWire"]),
        ("fuzz-configtxt", ["BootFiles"]),
        ("fuzz-labconfig", ["LabConfig"]),
    ]
    package.targets += [
        .systemLibrary(name: "CFuzzSupport", path: "Fuzz/CFuzzSupport"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzSupport"], path: "Fuzz/FuzzSupport"),
    ]
    package.targets += fuzzTargets.map { target in
        .executableTarget(
            name: target.name, dependencies: target.dependencies + ["FuzzSupport"], path: "Fuzz/\(target.name)",
            swiftSettings: sanitize, linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])])
    }
}
