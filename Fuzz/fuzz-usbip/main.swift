import FuzzSupport
import USBIPWire

/// Fuzz target: the USB/IP decoders, as usbip-binder reads requests from any peer and the
/// client reads the server's replies. Besides not trapping, each decoder must keep its
/// contract: nil means "a valid prefix, read more", so a message that decodes from `bytes`
/// decodes to the same value from exactly the bytes it used, and none of its proper prefixes
/// yields a message.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    var reader = WireReader(bytes)
    if let header = USBIPHeader.read(from: &reader) {
        for code in [USBIPOpCode.requestDevlist, .replyDevlist, .requestImport, .replyImport] {
            _ = try? header.check(code)
        }
    }
    checkContract("request", bytes, USBIPRequest.decode)
    checkContract("devlist reply", bytes, USBIPDevlistReply.decode)
    checkContract("import reply", bytes, USBIPImportReply.decode)
    return 0
}

func checkContract<Message: Equatable>(
    _ name: String, _ bytes: [UInt8], _ decode: ([UInt8]) throws(USBIPWireError) -> (Message, Int)?
) {
    let result: (Message, Int)?
    do {
        result = try decode(bytes)
    } catch {
        _ = error.message
        return
    }
    guard let (message, used) = result else { return }
    FuzzDriver.check(used > 0 && used <= bytes.count, "\(name) used \(used) of \(bytes.count) bytes")
    let exact = try? decode(Array(bytes[..<used]))
    FuzzDriver.check(exact?.0 == message && exact?.1 == used, "\(name) decodes differently from its own \(used) bytes")
    for cut in Set([0, used / 2, used - 1]) where cut < used {
        let prefix = try? decode(Array(bytes[..<cut]))
        FuzzDriver.check(prefix == nil, "\(name): a \(cut)-byte prefix of a \(used)-byte message decodes")
    }
}

FuzzDriver.run(fuzz)
