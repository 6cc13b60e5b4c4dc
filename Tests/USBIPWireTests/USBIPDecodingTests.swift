import Testing
import USBIPWire

/// Every decoder is fed every strict prefix of its golden input (must answer nil:
/// "need more"), then the whole input plus trailing bytes it must not consume.
@Suite struct USBIPDecodingTests {
    static let trailer: [UInt8] = [0xde, 0xad]

    static let devlistReplyBytes: [UInt8] =
        [0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x01]
        + Golden.artyBytes + Golden.artyInterfaceBytes

    @Test func devlistRequestByteByByte() throws {
        let bytes: [UInt8] = [0x01, 0x11, 0x80, 0x05, 0, 0, 0, 0]
        for n in 0..<bytes.count { #expect(try USBIPRequest.decode(Array(bytes[..<n])) == nil) }
        let decoded = try #require(try USBIPRequest.decode(bytes + Self.trailer))
        #expect(decoded.0 == .devlist)
        #expect(decoded.1 == 8)
    }

    @Test func importRequestByteByByte() throws {
        let bytes: [UInt8] = [0x01, 0x11, 0x80, 0x03, 0, 0, 0, 0] + Golden.field("1-1.3", 32)
        for n in 0..<bytes.count { #expect(try USBIPRequest.decode(Array(bytes[..<n])) == nil) }
        let decoded = try #require(try USBIPRequest.decode(bytes + Self.trailer))
        #expect(decoded.0 == .importDevice(busID: "1-1.3"))
        #expect(decoded.1 == 40)
    }

    @Test func devlistReplyByteByByte() throws {
        let bytes = Self.devlistReplyBytes
        for n in 0..<bytes.count { #expect(try USBIPDevlistReply.decode(Array(bytes[..<n])) == nil) }
        let decoded = try #require(try USBIPDevlistReply.decode(bytes + Self.trailer))
        #expect(decoded.1 == bytes.count)
        #expect(decoded.0.status == 0)
        #expect(decoded.0.devices == [USBIPExportedDevice(device: Golden.arty, interfaces: Golden.artyInterfaces)])
    }

    @Test func devlistReplyWithErrorStatusEndsAfterHeader() throws {
        let decoded = try #require(try USBIPDevlistReply.decode([0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0x01, 0xff]))
        #expect(decoded.0 == USBIPDevlistReply(status: 1, devices: []))
        #expect(decoded.1 == 8)
    }

    @Test func importReplyByteByByte() throws {
        let bytes: [UInt8] = [0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0] + Golden.hubBytes
        for n in 0..<bytes.count { #expect(try USBIPImportReply.decode(Array(bytes[..<n])) == nil) }
        let decoded = try #require(try USBIPImportReply.decode(bytes + Self.trailer))
        #expect(decoded.0 == USBIPImportReply(status: 0, device: Golden.hub))
        #expect(decoded.1 == 320)
    }

    @Test func failedImportReplyIsHeaderOnly() throws {
        let decoded = try #require(try USBIPImportReply.decode([0x01, 0x11, 0x00, 0x03, 0, 0, 0, 0x04]))
        #expect(decoded.0 == USBIPImportReply(status: 4, device: nil))
        #expect(decoded.1 == 8)
    }

    @Test func roundTrip() throws {
        let reply = USBIPDevlistReply(devices: [
            USBIPExportedDevice(device: Golden.hub, interfaces: []),
            USBIPExportedDevice(device: Golden.arty, interfaces: Golden.artyInterfaces),
        ])
        let decoded = try #require(try USBIPDevlistReply.decode(reply.encode()))
        #expect(decoded.0 == reply)
    }

    /// The message a malformed header is given to.
    enum Decoder: String, Sendable {
        case request, devlistReply, importReply

        func decode(_ bytes: [UInt8]) throws(USBIPWireError) {
            switch self {
            case .request: _ = try USBIPRequest.decode(bytes)
            case .devlistReply: _ = try USBIPDevlistReply.decode(bytes)
            case .importReply: _ = try USBIPImportReply.decode(bytes)
            }
        }
    }

    /// Malformed headers are refused with the error that says what is wrong.
    @Test(arguments: [
        (Decoder.request, [0x01, 0x06, 0x80, 0x05, 0, 0, 0, 0] as [UInt8], USBIPWireError.badVersion(0x0106)),
        (.request, [0x01, 0x11, 0x80, 0x04, 0, 0, 0, 0], .unexpectedCode(0x8004)),
        (.request, [0x01, 0x11, 0x80, 0x05, 0, 0, 0, 7], .badStatus(7)),
        (.importReply, [0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0], .unexpectedCode(0x0005)),
        (.devlistReply, [0x01, 0x11, 0x00, 0x05, 0, 0, 0, 0, 0, 1, 0, 0], .tooManyDevices(0x0001_0000)),
    ])
    func malformedHeaderIsRefused(decoder: Decoder, bytes: [UInt8], error: USBIPWireError) {
        #expect(throws: error) { try decoder.decode(bytes) }
    }

    @Test func errorMessages() {
        #expect(USBIPWireError.badVersion(0x0106).message == "unsupported USB/IP version 0x0106")
        #expect(USBIPWireError.unexpectedCode(0x8004).message == "unexpected USB/IP operation 0x8004")
    }
}
