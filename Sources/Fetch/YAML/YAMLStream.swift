/// One document of a stream read with per-document isolation: its tree, or the error that stopped
/// it, with where it starts.
public struct YAMLDocument: Sendable {
    /// 1-based position of the document in its stream.
    public let index: Int
    /// 1-based line where the document's text starts.
    public let line: Int
    /// The document's tree, or why it could not be read.
    public let result: Result<YAMLNode, YAMLError>
    /// The document's raw text when it failed (so a caller can still tell what it was meant to be).
    public let failedText: String?
}

extension YAML {
    /// Parses every document of a stream, isolating failures: a syntax error stops only the
    /// document it is in, and the documents after it are still read (as YAML 1.2 readers do, each
    /// document on its own). Documents are cut at `---` and `...` lines when the stream as a whole
    /// does not parse; `%` directive lines go with the document they precede.
    public static func parseEachDocument(bytes: [UInt8], file: String, limits: YAMLLimits = .default) -> [YAMLDocument] {
        if let nodes = try? parse(bytes, file: file, lineOffset: 0, limits: limits) {
            return nodes.enumerated().map { YAMLDocument(index: $0.offset + 1, line: $0.element.line, result: .success($0.element), failedText: nil) }
        }
        var documents: [YAMLDocument] = []
        for chunk in documentChunks(bytes) {
            let slice = Array(bytes[chunk.range])
            do {
                for node in try parse(slice, file: file, lineOffset: chunk.firstLine - 1, limits: limits) {
                    documents.append(YAMLDocument(index: documents.count + 1, line: node.line, result: .success(node), failedText: nil))
                }
            } catch {
                documents.append(YAMLDocument(index: documents.count + 1, line: chunk.contentLine, result: .failure(error),
                                              failedText: String(decoding: slice, as: UTF8.self)))
            }
        }
        return documents
    }

    /// Parses a whole stream (or one cut-out document), bridging what JSON and YAML 1.2 allow in
    /// double-quoted scalars and libyaml (YAML 1.1) refuses: `\ud83d\ude80`, a surrogate pair
    /// escape, becomes the one character it encodes; a lone surrogate becomes U+FFFD.
    static func parse(_ input: [UInt8], file: String, lineOffset: Int, limits: YAMLLimits) throws(YAMLError) -> [YAMLNode] {
        var bytes = input
        while true {
            var builder = YAMLTreeBuilder(parser: LibYAMLParser(bytes: bytes, file: file, lineOffset: lineOffset),
                                          file: file, limits: limits)
            do {
                return try builder.run()
            } catch {
                guard error.message.hasPrefix(SurrogateEscapes.libyamlMessage),
                      let bridged = SurrogateEscapes.bridge(bytes, line: error.line - lineOffset, column: error.column)
                else { throw error }
                bytes = bridged
            }
        }
    }

    /// One document's bytes: `range` in the stream, the line it starts on and the line of its
    /// first content (after directives, markers and comments).
    struct Chunk {
        let range: Range<Int>
        let firstLine: Int
        let contentLine: Int
    }

    /// Cuts a stream at document markers at the start of a line (`---`, `...`). Directive and
    /// comment lines right before a `---` belong to the document it starts.
    static func documentChunks(_ bytes: [UInt8]) -> [Chunk] {
        var lines: [(start: Int, end: Int)] = []  // end excludes the line break
        var start = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            lines.append((start, index))
            start = index + 1
        }
        if start < bytes.count { lines.append((start, bytes.count)) }

        func hasMarker(_ line: (start: Int, end: Int), _ marker: UInt8) -> Bool {
            guard line.end - line.start >= 3, bytes[line.start] == marker, bytes[line.start + 1] == marker,
                  bytes[line.start + 2] == marker else { return false }
            guard line.end - line.start > 3 else { return true }
            let next = bytes[line.start + 3]
            return next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r")
        }
        func isPreamble(_ line: (start: Int, end: Int)) -> Bool {
            guard line.end > line.start else { return true }
            let first = bytes[line.start]
            return first == UInt8(ascii: "%") || first == UInt8(ascii: "#") || first == UInt8(ascii: "\r")
        }

        var cuts: [Int] = [0]  // line indices where a chunk starts
        for (number, line) in lines.enumerated() {
            if hasMarker(line, UInt8(ascii: "-")) {
                var first = number
                while first > cuts[cuts.count - 1], isPreamble(lines[first - 1]) { first -= 1 }
                if first > cuts[cuts.count - 1] { cuts.append(first) }
            } else if hasMarker(line, UInt8(ascii: ".")), number + 1 < lines.count {
                cuts.append(number + 1)
            }
        }
        var chunks: [Chunk] = []
        for (position, first) in cuts.enumerated() where first < lines.count {
            let last = position + 1 < cuts.count ? cuts[position + 1] - 1 : lines.count - 1
            guard last >= first else { continue }
            let end = last + 1 < lines.count ? lines[last + 1].start : bytes.count
            var content = first
            while content < last, isPreamble(lines[content]) || hasMarker(lines[content], UInt8(ascii: "-")) && lines[content].end - lines[content].start <= 4 {
                content += 1
            }
            chunks.append(Chunk(range: lines[first].start..<end, firstLine: first + 1, contentLine: content + 1))
        }
        return chunks
    }
}

/// Surrogate-pair escapes in double-quoted scalars (`"\ud83d\ude80"`), which JSON and YAML 1.2
/// readers (Backstage's included) decode and libyaml refuses.
enum SurrogateEscapes {
    /// How libyaml words the refusal.
    static let libyamlMessage = "found invalid Unicode character escape code"

    /// The input with the escapes of the double-quoted scalar holding the refused escape rewritten:
    /// each pair as `\UXXXXXXXX`, a lone surrogate as `\uFFFD`. `line` and `column` are libyaml's
    /// 1-based position of the refused escape's hex digits (columns count characters). Nil when
    /// the position does not hold a surrogate escape.
    static func bridge(_ bytes: [UInt8], line: Int, column: Int) -> [UInt8]? {
        guard let digits = offset(in: bytes, line: line, column: column), digits >= 2,
              bytes[digits - 2] == UInt8(ascii: "\\"), bytes[digits - 1] == UInt8(ascii: "u"),
              let first = hex(bytes, at: digits), (0xD800...0xDFFF).contains(first)
        else { return nil }
        var out = Array(bytes[..<(digits - 2)])
        var index = digits - 2
        // Rewrite from the refused escape to the end of its scalar (an unescaped `"`).
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                out.append(byte)
                index += 1
                continue
            }
            guard bytes[index + 1] == UInt8(ascii: "u"), let unit = hex(bytes, at: index + 2),
                  (0xD800...0xDFFF).contains(unit)
            else {
                out.append(contentsOf: bytes[index...(index + 1)])
                index += 2
                continue
            }
            if unit <= 0xDBFF, index + 11 < bytes.count, bytes[index + 6] == UInt8(ascii: "\\"),
               bytes[index + 7] == UInt8(ascii: "u"), let low = hex(bytes, at: index + 8), (0xDC00...0xDFFF).contains(low) {
                let scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                out.append(contentsOf: Array("\\U".utf8) + Array(String(scalar, radix: 16, uppercase: true).leftPadded(to: 8).utf8))
                index += 12
            } else {
                out.append(contentsOf: Array("\\uFFFD".utf8))
                index += 6
            }
        }
        out.append(contentsOf: bytes[index...])
        return out
    }

    /// The value of four hex digits at `index`, if they are there.
    private static func hex(_ bytes: [UInt8], at index: Int) -> Int? {
        guard index + 4 <= bytes.count else { return nil }
        return Int(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
    }

    /// The byte offset of a 1-based line and character column in UTF-8 text.
    private static func offset(in bytes: [UInt8], line: Int, column: Int) -> Int? {
        var index = 0
        var currentLine = 1
        while currentLine < line {
            guard let newline = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            index = newline + 1
            currentLine += 1
        }
        var characters = 1
        while characters < column, index < bytes.count {
            let byte = bytes[index]
            index += byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            characters += 1
        }
        return index <= bytes.count ? index : nil
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
