import Testing
import USBIPWire

/// OP_REQ_HOLDERS / OP_REP_HOLDERS, fpga-lab's own operation (docs/DESIGN.md section 6), in
/// golden bytes written out field by field.
@Suite struct USBIPHoldersTests {
    /// 1-1.3 held by 192.0.2.7:51234 since 2026-12-05T22:40:01Z (1796510401), 1-1.4 available.
    static let boards = [
        USBIPBoardHolder(busID: "1-1.3", state: .inUse, since: 1_796_510_401,
                         peerAddress: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7], peerPort: 51234),
        USBIPBoardHolder(busID: "1-1.4", state: .available),
    ]
    static let bytes: [UInt8] =
        [0x01, 0x11, 0x00, 0xf1, 0, 0, 0, 0]                        // op_common(0x00f1, 0)
        + [0, 0, 0, 2]                                              // count
        + Golden.field("1-1.3", 32) + [0, 0, 0, 2]                  // busid, state 2
        + [0, 0, 0, 0, 0x6b, 0x14, 0x92, 0xc1]                      // since 1796510401
        + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]  // ::ffff:192.0.2.7
        + [0xc8, 0x22, 0, 0]                                        // port 51234, reserved
        + Golden.field("1-1.4", 32) + [0, 0, 0, 1]                  // busid, state 1
        + [UInt8](repeating: 0, count: 8 + 16 + 4)                  // no holder

    @Test func request() throws {
        #expect(USBIPRequest.holders.encode() == [0x01, 0x11, 0x80, 0xf1, 0, 0, 0, 0])
        let (request, used) = try #require(try USBIPRequest.decode([0x01, 0x11, 0x80, 0xf1, 0, 0, 0, 0]))
        #expect(request == .holders && used == 8)
    }

    @Test func replyEncodesAndDecodes() throws {
        let reply = USBIPHoldersReply(boards: Self.boards)
        #expect(reply.encode() == Self.bytes)
        #expect(Self.bytes.count == 12 + 2 * USBIPBoardHolder.size)
        let (decoded, used) = try #require(try USBIPHoldersReply.decode(Self.bytes))
        #expect(decoded == reply && used == Self.bytes.count)
        #expect(decoded.boards[0].hasHolder && !decoded.boards[1].hasHolder)
    }

    @Test func everyPrefixIsIncomplete() throws {
        for length in 0..<Self.bytes.count {
            #expect(try USBIPHoldersReply.decode(Array(Self.bytes[..<length])) == nil, "prefix of \(length) bytes")
        }
    }

    @Test func wrongStateCodeOrStatusIsRefused() {
        var badState = Self.bytes
        badState[12 + 35] = 7
        #expect(throws: USBIPWireError.badBoardState(7)) { try USBIPHoldersReply.decode(badState) }
        var devlist = Self.bytes
        devlist[3] = 0x05
        #expect(throws: USBIPWireError.unexpectedCode(0x0005)) { try USBIPHoldersReply.decode(devlist) }
        var status = Self.bytes
        status[7] = 1
        #expect(throws: USBIPWireError.badStatus(1)) { try USBIPHoldersReply.decode(status) }
        var huge = Self.bytes
        huge[8] = 0xff
        #expect(throws: USBIPWireError.tooManyDevices(0xff00_0002)) { try USBIPHoldersReply.decode(huge) }
    }
}
