import CJQ
import Glibc
import Store

/// What Port would refuse in a planned upsert, found before sending (port-api.md §5.2, §5.4): an
/// identifier or relation target outside `^(?!\.{1,2}$)[\p{L}0-9@_.+:\\/=-]+$` or longer than 1000
/// characters, a blueprint identifier outside its own pattern, or a body over the 1 MiB request
/// limit. Port refuses a whole bulk request for one bad identifier, so such an entity is not sent
/// at all: it is recorded as rejected (pending, retried next run) with the reason, and the rest of
/// its batch goes out.
enum PortPreflight {
    static let maxBodyBytes = 1 << 20

    /// Why Port would refuse `upsert`, or nil.
    static func problem(_ upsert: PlannedUpsert) -> String? {
        if let problem = PortIdentifierRule.problem(upsert.key.identifier) {
            return "identifier \"\(TerminalText.shortened(upsert.key.identifier))\" \(problem)"
        }
        if let problem = PortIdentifierRule.blueprintProblem(upsert.key.blueprint) {
            return "blueprint \"\(TerminalText.shortened(upsert.key.blueprint))\" \(problem)"
        }
        let size = upsert.body.bytes.count
        if size > maxBodyBytes {
            return "the mapped entity is \(size) bytes, over Port's 1 MiB request limit"
        }
        return relationProblem(upsert.body.bytes)
    }

    /// Sends the upserts Port would accept with `send`, and refuses the others; outcomes in the
    /// order of `items`. Nil when every item is acceptable (send them as usual).
    static func screen(_ items: [PlannedUpsert], send: ([PlannedUpsert]) -> PortPusher.BatchResult) -> PortPusher.BatchResult? {
        let problems = items.map(problem)
        guard problems.contains(where: { $0 != nil }) else { return nil }
        let acceptable = zip(items, problems).filter { $0.1 == nil }.map(\.0)
        var result = acceptable.isEmpty ? PortPusher.BatchResult(outcomes: []) : send(acceptable)
        var sent = result.outcomes.makeIterator()
        result.outcomes = problems.map { problem in
            if let problem { return .rejected(.notSent(problem)) }
            return sent.next() ?? .failed(.unanswered)
        }
        return result
    }

    /// `"relations"` as it appears in canonical JSON: a body without it has no relation to check
    /// and needs no parse.
    private static let relationsMember = Array(#""relations""#.utf8)

    /// Whether `needle` (non-empty) occurs in `body`: `memchr` for its first byte, then `memcmp`
    /// (Foundation's generic `firstRange` was ~3% of a first sync's CPU here).
    private static func contains(_ body: [UInt8], _ needle: [UInt8]) -> Bool {
        body.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                guard let base = haystack.baseAddress, let first = needle.first, let pattern = needle.baseAddress else { return false }
                var offset = 0
                while haystack.count - offset >= needle.count {
                    guard let hit = memchr(base + offset, Int32(first), haystack.count - offset - needle.count + 1) else { return false }
                    if memcmp(hit, pattern, needle.count) == 0 { return true }
                    offset = base.distance(to: UnsafeRawPointer(hit)) + 1
                }
                return false
            }
        }
    }

    /// The first relation value (a string, or a string of an array) Port would refuse.
    static func relationProblem(_ body: [UInt8]) -> String? {
        guard contains(body, relationsMember), let parsed = try? JQValue.parse(body),
              let relations = parsed.member("relations"), relations.kind == JV_KIND_OBJECT else { return nil }
        var problem: String?
        relations.reference.forEachMember { key, value in
            var targets: [String] = []
            if let text = value.stringValue {
                targets = [text]
            } else if value.kind == JV_KIND_ARRAY {
                for index in 0..<value.count {
                    if let text = value.element(index).stringValue { targets.append(text) }
                }
            }
            for target in targets {
                if let reason = PortIdentifierRule.problem(target) {
                    problem = "relations.\(key.stringValue ?? "?") target \"\(TerminalText.shortened(target))\" \(reason)"
                    return false
                }
            }
            return true
        }
        return problem
    }
}
