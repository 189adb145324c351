import CYAML

/// One libyaml parser over its own copy of the input. libyaml keeps a pointer into the input
/// between calls to `yaml_parser_parse`, so the bytes and the `yaml_parser_t` are allocated here,
/// never moved, and freed together in `deinit` after `yaml_parser_delete`.
final class LibYAMLParser {
    /// One parsing event with its C strings copied out (the C event is freed before returning).
    enum Event {
        case streamStart
        case streamEnd
        case documentStart
        case documentEnd
        case alias(anchor: String)
        case scalar(value: String, anchor: String?, tag: String?, plain: Bool)
        case sequenceStart(anchor: String?, tag: String?)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?)
        case mappingEnd
    }

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCount: Int
    private let file: String
    /// Lines before the input in its file (the input is one document cut out of a stream).
    private let lineOffset: Int

    /// Copies `bytes` and prepares a parser over them. Traps only when libyaml cannot allocate.
    /// - Parameter lineOffset: added to every reported line, for input that starts mid-file.
    init(bytes: [UInt8], file: String, lineOffset: Int = 0) {
        self.file = file
        self.lineOffset = lineOffset
        inputCount = bytes.count
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        bytes.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { input.initialize(from: base, count: buffer.count) }
        }
        self.input = input
        parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        // > yaml_parser_initialize: Initialize a parser. [...] returns 1 if the function
        // > succeeded, 0 on error. (It only fails when allocation fails.)
        guard yaml_parser_initialize(parser) == 1 else {
            fatalError("libyaml: yaml_parser_initialize failed (out of memory)")
        }
        // > The string should exist until the parser object is destroyed.
        yaml_parser_set_input_string(parser, input, inputCount)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event with its 1-based start position. The corresponding C function is
    /// `yaml_parser_parse`.
    func next() throws(YAMLError) -> (event: Event, line: Int, column: Int) {
        var raw = yaml_event_t()
        guard yaml_parser_parse(parser, &raw) == 1 else { throw currentError() }
        defer { yaml_event_delete(&raw) }
        let line = Int(raw.start_mark.line) + 1 + lineOffset
        let column = Int(raw.start_mark.column) + 1
        let event: Event
        switch raw.type {
        case YAML_STREAM_START_EVENT: event = .streamStart
        case YAML_STREAM_END_EVENT: event = .streamEnd
        case YAML_DOCUMENT_START_EVENT: event = .documentStart
        case YAML_DOCUMENT_END_EVENT: event = .documentEnd
        case YAML_ALIAS_EVENT:
            event = .alias(anchor: Self.string(raw.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let scalar = raw.data.scalar
            let value: String
            if let pointer = scalar.value, scalar.length > 0 {
                value = String(decoding: UnsafeBufferPointer(start: pointer, count: Int(scalar.length)), as: UTF8.self)
            } else {
                value = ""
            }
            event = .scalar(value: value, anchor: Self.string(scalar.anchor), tag: Self.string(scalar.tag),
                            plain: scalar.style == YAML_PLAIN_SCALAR_STYLE)
        case YAML_SEQUENCE_START_EVENT:
            event = .sequenceStart(anchor: Self.string(raw.data.sequence_start.anchor),
                                   tag: Self.string(raw.data.sequence_start.tag))
        case YAML_SEQUENCE_END_EVENT: event = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            event = .mappingStart(anchor: Self.string(raw.data.mapping_start.anchor),
                                  tag: Self.string(raw.data.mapping_start.tag))
        case YAML_MAPPING_END_EVENT: event = .mappingEnd
        default:
            throw YAMLError(file: file, line: line, column: column, message: "unexpected libyaml event \(raw.type.rawValue)")
        }
        return (event, line, column)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    /// The parser's error state as a `YAMLError` at libyaml's `problem_mark`.
    private func currentError() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "invalid YAML"
        switch state.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(file: file, line: 0, column: 0, message: "libyaml ran out of memory")
        case YAML_READER_ERROR:
            // Reader errors (bad encoding) set problem_offset, not problem_mark.
            let (line, column) = position(ofOffset: state.problem_offset)
            var message = problem
            if state.problem_value != -1 { message += " (byte 0x\(String(state.problem_value, radix: 16)))" }
            return YAMLError(file: file, line: line + lineOffset, column: column, message: message)
        default:
            var message = problem
            if let context = state.context.map({ String(cString: $0) }) {
                message += " (\(context) at line \(Int(state.context_mark.line) + 1 + lineOffset), column \(state.context_mark.column + 1))"
            }
            return YAMLError(file: file, line: Int(state.problem_mark.line) + 1 + lineOffset,
                             column: Int(state.problem_mark.column) + 1, message: message)
        }
    }

    /// 1-based line and column of a byte offset into the input.
    private func position(ofOffset offset: Int) -> (Int, Int) {
        var line = 1
        var lineStart = 0
        let end = min(max(offset, 0), inputCount)
        for index in 0..<end where input[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, end - lineStart + 1)
    }
}

@available(*, unavailable)
extension LibYAMLParser: Sendable {}
