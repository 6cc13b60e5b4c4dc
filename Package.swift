// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "fpga-lab",
    products: [
        .library(name: "DiskImage", targets: ["DiskImage"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3")
    ],
    targets: [
        .systemLibrary(
            name: "CExt2fs",
            pkgConfig: "ext2fs",
            providers: [.apt(["libext2fs-dev"])]
        ),
        .target(
            name: "DiskImage",
            dependencies: [
                "CExt2fs",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "DiskImageTests",
            dependencies: ["DiskImage"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "DiskImage",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
