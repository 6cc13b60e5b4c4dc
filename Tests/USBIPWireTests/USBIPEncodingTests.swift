import Testing
import USBIPWire

@Suite struct USBIPEncodingTests {
    @Test func devlistRequest() {
        #expect(USBIPRequest.devlist.encode() == [0x01, 0x11, 0x80, 0x05, 0x00, 0x00, 0x00, 0x00])
    }

    @Test func importRequest() {
        let bytes = USBIPRequest.importDevice(busID: "1-1.3").encode()
        #expect(bytes == [0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0] + Golden.field("1-1.3", 32))
        #expect(bytes.count == 40)
    }

    @Test func header() {
        var w = WireWriter()
        USBIPHeader(code: .replyImport, status: 0x0102_0304).encode(into: &w)
        #expect(w.bytes == [0x01, 0x11, 0x00, 0x03, 0x01, 0x02, 0x03, 0x04])
    }

    @Test func device() {
        var w = WireWriter()
        Golden.arty.encode(into: &w)
        #expect(w.bytes == Golden.artyBytes)
        #expect(w.bytes.count == USBIPDevice.size)
        var w2 = WireWriter()
        Golden.hub.encode(into: &w2)
        #expect(w2.bytes == Golden.hubBytes)
    }

    @Test func emptyDevlistReply() {
        #expect(USBIPDevlistReply(devices: []).encode() == [0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func devlistReplyWithTwoDevices() {
        let reply = USBIPDevlistReply(devices: [
            USBIPExportedDevice(device: Golden.arty, interfaces: Golden.artyInterfaces),
            USBIPExportedDevice(device: Golden.hub, interfaces: [
                USBIPInterface(interfaceClass: 0x03, interfaceSubClass: 0x01, interfaceProtocol: 0x02)
            ]),
        ])
        let expected: [UInt8] =
            [0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x02]
            + Golden.artyBytes + Golden.artyInterfaceBytes
            + Golden.hubBytes + [0x03, 0x01, 0x02, 0x00]
        #expect(reply.encode() == expected)
    }

    @Test func numInterfacesFollowsInterfaceList() {
        let d = USBIPExportedDevice(device: Golden.arty, interfaces: [])
        #expect(d.device.numInterfaces == 0)
    }

    @Test func importReplies() {
        let ok = USBIPImportReply(status: 0, device: Golden.arty).encode()
        #expect(ok == [0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0] + Golden.artyBytes)
        let busy = USBIPImportReply(status: USBIPStatus.deviceBusy.rawValue, device: nil).encode()
        #expect(busy == [0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0x02])
        let noDevice = USBIPImportReply(status: USBIPStatus.noDevice.rawValue, device: Golden.arty).encode()
        #expect(noDevice == [0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0x04])
    }

    @Test func longStringsAreTruncatedAndTerminated() {
        var w = WireWriter()
        w.fixedString(String(repeating: "x", count: 40), size: 32)
        #expect(w.bytes == [UInt8](repeating: UInt8(ascii: "x"), count: 31) + [0])
    }

    @Test(arguments: [
        ("1.5", USBSpeed.low), ("12", .full), ("480", .high), ("53.3-480", .wireless),
        ("5000", .superSpeed), ("10000", .superSpeedPlus), ("20000", .superSpeedPlus), ("", .unknown),
    ])
    func speedFromSysfs(text: String, speed: USBSpeed) {
        #expect(USBSpeed(sysfs: text) == speed)
    }

    @Test func hexDigits() {
        #expect(USBIP.hex(0x403, width: 4) == "0403")
        #expect(USBIP.hex(0xdead_beef, width: 2) == "deadbeef")
        #expect(USBIP.hex(0, width: 0) == "0")
    }
}
