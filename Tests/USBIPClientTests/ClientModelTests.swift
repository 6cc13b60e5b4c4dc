import Foundation
import LabConfig
import Testing
import USBIPWire
@testable import USBIPClient

@Suite struct ClientModelTests {
    @Test func serverAddresses() {
        #expect(USBIPServerAddress(parsing: "pi") == USBIPServerAddress(host: "pi", port: 3240))
        #expect(USBIPServerAddress(parsing: "pi:4000") == USBIPServerAddress(host: "pi", port: 4000))
        #expect(USBIPServerAddress(parsing: "::1") == USBIPServerAddress(host: "::1", port: 3240))
        #expect(USBIPServerAddress(parsing: "[::1]:4000") == USBIPServerAddress(host: "::1", port: 4000))
        #expect(USBIPServerAddress(parsing: "[fe80::1]", defaultPort: 7) == USBIPServerAddress(host: "fe80::1", port: 7))
        #expect(USBIPServerAddress(parsing: "pi:0") == nil)
        #expect(USBIPServerAddress(parsing: "pi:x") == nil)
        #expect(USBIPServerAddress(host: "::1", port: 9).description == "[::1]:9")
    }

    @Test func recordsAreUsbipCompatible() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rec-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = PortRecords(directory: dir)
        try records.save(.init(port: 3, host: "pi", tcpPort: 3240, busID: "1-1.3", vendor: 0x0403, product: 0x6010))
        #expect(try String(contentsOfFile: dir + "/port3", encoding: .utf8) == "pi 3240 1-1.3 0403:6010\n")
        #expect(records.load(port: 3) == .init(port: 3, host: "pi", tcpPort: 3240, busID: "1-1.3", vendor: 0x0403, product: 0x6010))
        // What usbip(8) itself writes: three fields.
        try "10.0.0.2 3240 1-1.4\n".write(toFile: dir + "/port8", atomically: true, encoding: .utf8)
        #expect(records.load(port: 8) == .init(port: 8, host: "10.0.0.2", tcpPort: 3240, busID: "1-1.4"))
        records.remove(port: 3)
        #expect(records.load(port: 3) == nil)
    }

    static func device(_ busID: String, _ vendor: UInt16, _ product: UInt16) -> USBIPDevice {
        USBIPDevice(path: "/sys/devices/x/\(busID)", busID: busID, busnum: 1, devnum: 2, speed: 3,
                    idVendor: vendor, idProduct: product, bcdDevice: 0, deviceClass: 0, deviceSubClass: 0,
                    deviceProtocol: 0, configurationValue: 1, numConfigurations: 1, numInterfaces: 0)
    }

    @Test func boardsMatchByAnyIDAndPinnedPort() {
        let cyclone = Device(name: "de10", id: USBID(vendor: "09fb", product: "6010")!, also: [USBID(vendor: "09fb", product: "6810")!])
        let pinned = Device(name: "arty", id: USBID(vendor: "0403", product: "6010")!, port: "1-1.3")
        #expect(cyclone.matches(Self.device("1-1.2", 0x09fb, 0x6010)))
        #expect(cyclone.matches(Self.device("1-1.2", 0x09fb, 0x6810)))
        #expect(!cyclone.matches(Self.device("1-1.2", 0x09fb, 0x6011)))
        #expect(pinned.matches(Self.device("1-1.3", 0x0403, 0x6010)))
        #expect(!pinned.matches(Self.device("1-1.4", 0x0403, 0x6010)))
        #expect(pinned.matches(PortRecords.Record(port: 0, host: "h", tcpPort: 1, busID: "1-1.3")))
        #expect(!cyclone.matches(PortRecords.Record(port: 0, host: "h", tcpPort: 1, busID: "1-1.2")))
        #expect(cyclone.matches(PortRecords.Record(port: 0, host: "h", tcpPort: 1, busID: "1-1.2", vendor: 0x09fb, product: 0x6810)))
    }
}
