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
                "LabConfig", "Overlay", "Archives", "Artifacts", "DiskImage", "ClientRecipe", "Flash", "USBIPClient", "USBIPWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "LabConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "Overlay",
            dependencies: [
                "LabConfig", "Archives", .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                "Digests",
            ],
            plugins: ["EmbedResources"]
        ),
        .target(
            name: "ClientRecipe",
            dependencies: ["LabConfig", "Overlay", .product(name: "Mustache", package: "swift-mustache")]
        ),
        .target(name: "Archives", dependencies: ["CArchive", "CLzma"]),
        // The artifact layer build-image, inspect and flash share: container sniffing, the zip
        // member policy, downloads. Free of Yams, mustache and libext2fs.
        .target(name: "Artifacts", dependencies: ["Archives", "Digests"]),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "Archives", "Digests", "TestSupport"]),
        // USB/IP codec. No Foundation: the same sources are compiled into the
        // Embedded Swift usbip-binder (see mk/binder.mk).
        .target(name: "USBIPWire"),
        .target(
            name: "DiskImage",
            dependencies: ["CExt2fs", "CLinux", "Ext2fsImageIO", "Archives", "Artifacts", "Overlay", "LabConfig", "Digests"]
        ),
        .target(
            name: "Flash",
            dependencies: ["DiskImage", "Archives", "Artifacts", "Digests", "CLinux"]
        ),
        // SHA-256 / SHA-1 from the system's libcrypto: swift-crypto's BoringSSL took most of a cold
        // release build (about 400 C files), for two digests.
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "Digests", dependencies: ["CCrypto"]),
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

        .target(name: "USBIPClient", dependencies: ["USBIPWire", "LabConfig", "CLinux"]),
        .testTarget(name: "USBIPClientTests", dependencies: ["USBIPClient", "USBIPWire", "LabConfig"]),

        .testTarget(name: "LabConfigTests", dependencies: ["LabConfig"]),
        // Shared by the test targets only: running tools, golden directories.
        .target(name: "TestSupport", dependencies: ["Overlay"], path: "Tests/TestSupport"),
        .testTarget(name: "OverlayTests", dependencies: ["Overlay", "LabConfig", "Digests", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "ArchivesTests", dependencies: ["Archives"]),
        .testTarget(name: "ClientRecipeTests", dependencies: ["ClientRecipe", "Overlay", "LabConfig", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "CLITests", dependencies: ["FPGALabCLI", "TestSupport"]),
        .testTarget(name: "USBIPWireTests", dependencies: ["USBIPWire"]),
        .testTarget(name: "FlashTests", dependencies: ["Flash", "Artifacts", "DiskImage", "Digests"]),
        .testTarget(name: "DigestsTests", dependencies: ["Digests"]),
        .testTarget(name: "DiskImageTests", dependencies: ["DiskImage"], exclude: ["Fixtures"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Overlay", "LabConfig", "Archives", "Artifacts", "DiskImage", "ClientRecipe", "Flash", "USBIPClient", "USBIPWire", "TestSupport",
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
    for target in package.targets where ["DiskImage", "USBIPWire", "Overlay", "LabConfig"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + sanitize
    }
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("fuzz-mbr", ["DiskImage"]),
        ("fuzz-fat", ["DiskImage"]),
        ("fuzz-ext4", ["DiskImage"]),
        ("fuzz-usbip", ["USBIPWire"]),
        ("fuzz-configtxt", ["Overlay", "LabConfig"]),
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
