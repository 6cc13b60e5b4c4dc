// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "fpga-lab",
    targets: [
        // USB/IP codec. No Foundation: the same sources are compiled into the
        // Embedded Swift usbip-binder (see mk/binder.mk).
        .target(name: "USBIPWire"),
        .testTarget(name: "USBIPWireTests", dependencies: ["USBIPWire"]),
    ]
)
