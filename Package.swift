// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "fpga-lab",
    products: [
        .library(name: "DiskImage", targets: ["DiskImage"])
    ],
    targets: [
        .target(name: "DiskImage"),
        .testTarget(name: "DiskImageTests", dependencies: ["DiskImage"]),
        .testTarget(name: "IntegrationTests", dependencies: ["DiskImage"]),
    ]
)
