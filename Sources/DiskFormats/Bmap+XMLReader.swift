/// The little XML a bmap file needs: elements, attributes, text, comments,
/// processing instructions, CDATA and the predefined and numeric entities.
/// No namespaces and no DTDs (a `<!DOCTYPE>` is skipped).
struct BmapXMLElement: Equatable {
    var name: String
    var attributes: [String: String] = [:]
    var text = ""
    var children: [BmapXMLElement] = []

    /// The first child element named `name`.
    func child(_ name: String) -> BmapXMLElement? { children.first { $0.name == name } }

    /// The element's text without surrounding whitespace.
    var trimmedText: String { Self.trim(text[...]) }

    static func trim(_ text: Substring) -> String {
        var text = text
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }

    /// Parses a document and returns its root element.
    static func parseDocument(_ bytes: [UInt8]) throws -> BmapXMLElement {
        var reader = Reader(bytes: bytes)
        try reader.skipMisc()
        let root = try reader.element()
        try reader.skipMisc()
        guard reader.atEnd else { throw BmapError.malformed("content after the root element") }
        return root
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index >= bytes.count }

        func starts(with literal: String) -> Bool {
            let needle = Array(literal.utf8)
            return bytes.count - index >= needle.count && Array(bytes[index..<index + needle.count]) == needle
        }

        mutating func skip(past literal: String) throws {
            let needle = Array(literal.utf8)
            guard let found = bytes[index...].firstRange(of: needle) else {
                throw BmapError.malformed("unterminated construct, expected '\(literal)'")
            }
            index = found.upperBound
        }

        mutating func skipSpace() {
            while !atEnd, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        /// Skips whitespace, comments, processing instructions and DOCTYPE.
        mutating func skipMisc() throws {
            while true {
                skipSpace()
                if starts(with: "<?") { try skip(past: "?>") }
                else if starts(with: "<!--") { try skip(past: "-->") }
                else if starts(with: "<!DOCTYPE") { try skip(past: ">") }
                else { return }
            }
        }

        mutating func name() throws -> String {
            let start = index
            while !atEnd, !" \t\r\n/>=".utf8.contains(bytes[index]) { index += 1 }
            guard index > start else { throw BmapError.malformed("expected a name at byte \(start)") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func element() throws -> BmapXMLElement {
            guard starts(with: "<") else { throw BmapError.malformed("expected an element at byte \(index)") }
            index += 1
            var element = BmapXMLElement(name: try name())
            while true {
                skipSpace()
                if starts(with: "/>") { index += 2; return element }
                if starts(with: ">") { index += 1; break }
                let key = try name()
                skipSpace()
                guard starts(with: "=") else { throw BmapError.malformed("attribute '\(key)' has no value") }
                index += 1
                skipSpace()
                guard !atEnd, bytes[index] == 0x22 || bytes[index] == 0x27 else {
                    throw BmapError.malformed("attribute '\(key)' is not quoted")
                }
                let quote = bytes[index]
                index += 1
                let start = index
                while !atEnd, bytes[index] != quote { index += 1 }
                guard !atEnd else { throw BmapError.malformed("unterminated attribute '\(key)'") }
                element.attributes[key] = try Self.decodeEntities(bytes[start..<index])
                index += 1
            }
            while true {
                guard !atEnd else { throw BmapError.malformed("<\(element.name)> is not closed") }
                if starts(with: "</") {
                    index += 2
                    let closing = try name()
                    skipSpace()
                    guard closing == element.name, starts(with: ">") else {
                        throw BmapError.malformed("</\(closing)> does not close <\(element.name)>")
                    }
                    index += 1
                    return element
                } else if starts(with: "<!--") {
                    try skip(past: "-->")
                } else if starts(with: "<![CDATA[") {
                    index += 9
                    let start = index
                    try skip(past: "]]>")
                    element.text += String(decoding: bytes[start..<index - 3], as: UTF8.self)
                } else if starts(with: "<?") {
                    try skip(past: "?>")
                } else if starts(with: "<") {
                    element.children.append(try self.element())
                } else {
                    let start = index
                    while !atEnd, bytes[index] != 0x3C { index += 1 }
                    element.text += try Self.decodeEntities(bytes[start..<index])
                }
            }
        }

        static func decodeEntities(_ raw: ArraySlice<UInt8>) throws -> String {
            let text = String(decoding: raw, as: UTF8.self)
            guard text.contains("&") else { return text }
            var result = ""
            var rest = text[...]
            while let amp = rest.firstIndex(of: "&") {
                result += rest[..<amp]
                guard let semicolon = rest[amp...].firstIndex(of: ";") else {
                    throw BmapError.malformed("unterminated entity")
                }
                let entity = rest[rest.index(after: amp)..<semicolon]
                switch entity {
                case "lt": result += "<"
                case "gt": result += ">"
                case "amp": result += "&"
                case "quot": result += "\""
                case "apos": result += "'"
                default:
                    let scalar: UInt32?
                    if entity.hasPrefix("#x") { scalar = UInt32(entity.dropFirst(2), radix: 16) }
                    else if entity.hasPrefix("#") { scalar = UInt32(entity.dropFirst()) }
                    else { scalar = nil }
                    guard let scalar, let character = Unicode.Scalar(scalar) else {
                        throw BmapError.malformed("unknown entity '&\(entity);'")
                    }
                    result.unicodeScalars.append(character)
                }
                rest = rest[rest.index(after: semicolon)...]
            }
            return result + rest
        }
    }
}
