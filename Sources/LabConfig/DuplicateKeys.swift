import CYaml

/// One key given again in the same mapping, with where it and its first occurrence are (1-based).
struct DuplicateKey: Equatable {
    var field: String
    var line: Int
    var column: Int
    var firstLine: Int
    var firstColumn: Int
}

/// Finds every repeated key of every mapping on libyaml's event stream.
///
/// Yams's composer stops at the first mapping holding a repeated key and reports it once, at
/// the first key it saw; this walk reports each repeat at its own place, with its field path
/// (`devices[1].serial`). Only plain scalar keys are compared; merge keys (`<<`) may repeat.
enum DuplicateKeys {
    private struct Frame {
        var path: String
        var isMapping: Bool
        /// In a mapping: the next node is a key.
        var expectingKey = true
        /// In a mapping: the key of the value being read. In a list: the next index.
        var key = ""
        var index = 0
        var seen: [String: (line: Int, column: Int)] = [:]

        /// The field path of the child node that starts now.
        var childPath: String {
            if isMapping { return path.isEmpty ? key : "\(path).\(key)" }
            return "\(path)[\(index)]"
        }
    }

    static func find(in text: String) -> [DuplicateKey] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return [] }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var stack: [Frame] = []
            var found: [DuplicateKey] = []

            /// A node ended: a mapping's next node is a key again after a value, a list moves on.
            func nodeDone() {
                guard !stack.isEmpty else { return }
                if stack[stack.count - 1].isMapping {
                    stack[stack.count - 1].expectingKey.toggle()
                } else {
                    stack[stack.count - 1].index += 1
                }
            }

            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { break }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                switch event.type {
                case YAML_SCALAR_EVENT:
                    if let top = stack.last, top.isMapping, top.expectingKey {
                        let value = event.data.scalar
                        let key = String(decoding: UnsafeBufferPointer(start: value.value, count: Int(value.length)), as: UTF8.self)
                        if key != "<<", let first = top.seen[key] {
                            let path = top.path.isEmpty ? key : "\(top.path).\(key)"
                            found.append(DuplicateKey(field: path, line: line, column: column,
                                                      firstLine: first.line, firstColumn: first.column))
                        } else {
                            stack[stack.count - 1].seen[key] = (line, column)
                        }
                        stack[stack.count - 1].key = key
                    }
                    nodeDone()
                case YAML_ALIAS_EVENT:
                    nodeDone()
                case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                    let path = stack.last?.childPath ?? ""
                    if let top = stack.last, top.isMapping, top.expectingKey { stack[stack.count - 1].key = "?" }
                    stack.append(Frame(path: path, isMapping: event.type == YAML_MAPPING_START_EVENT))
                case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                    stack.removeLast()
                    nodeDone()
                case YAML_STREAM_END_EVENT:
                    return found
                default:
                    break
                }
            }
            return found
        }
    }
}
