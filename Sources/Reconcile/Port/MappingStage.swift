import CJQ
import Foundation
import Store

/// What mapping the changed part of the mirror produced.
public struct MappingSummary: Sendable {
    public var mapped = 0
    public var entities = 0
    public var filtered = 0
    public var dropped = 0
    public var selectorErrors: [String] = []
    public var warnings = 0
    /// The first warnings, for output (all are counted).
    public var sampleWarnings: [String] = []
    public var remappedAll = false
}

/// Brings the desired Port state up to date with the mirror, inside the run's transaction:
/// re-maps only entities whose source changed, or every entity when the mapping changed.
/// A source whose selector errored keeps its previous desired entities (and blocks deletes).
struct MappingStage {
    let store: MirrorStore
    let mapping: CompiledMapping
    let mappingHash: String
    let run: Int

    func apply(changedRefs: [String], deletedRefs: [String], onWarning: (String) -> Void) throws -> MappingSummary {
        let desired = DesiredState(store: store)
        var summary = MappingSummary()
        let remapAll = try desired.mappingHash() != mappingHash
        summary.remappedAll = remapAll
        if remapAll {
            try desired.removeAll()
            // Keyset chunks: no statement stays open while the desired tables are written.
            var after = ""
            while true {
                let rows = try store.db.rows("""
                    SELECT e.ref, b.body FROM entities e JOIN blobs b ON b.hash = e.hash
                    WHERE e.ref > ? ORDER BY e.ref LIMIT 2000
                    """, [.text(after)]).compactMap { row -> (String, String)? in
                    guard let ref = row.string(0), let body = row.string(1) else { return nil }
                    return (ref, body)
                }
                guard let last = rows.last else { break }
                try map(rows, into: desired, summary: &summary, onWarning: onWarning)
                after = last.0
            }
            try desired.setMappingHash(mappingHash, run: run)
        } else {
            for ref in deletedRefs { try desired.remove(sourceRef: ref) }
            var rows: [(String, String)] = []
            for ref in changedRefs {
                if let body = try store.db.row("SELECT b.body FROM entities e JOIN blobs b ON b.hash = e.hash WHERE e.ref = ?",
                                               [.text(ref)])?.string(0) {
                    rows.append((ref, body))
                }
                if rows.count == 2_000 {
                    try map(rows, into: desired, summary: &summary, onWarning: onWarning)
                    rows.removeAll(keepingCapacity: true)
                }
            }
            try map(rows, into: desired, summary: &summary, onWarning: onWarning)
        }
        return summary
    }

    private func map(_ rows: [(String, String)], into desired: DesiredState, summary: inout MappingSummary,
                     onWarning: (String) -> Void) throws {
        for (ref, body) in rows {
            guard let parsedRef = EntityRef(parsing: ref), let entity = try? JQValue.parse(body) else { continue }
            summary.mapped += 1
            let results = mapping.map(entity, ref: parsedRef)
            var produced: [DesiredEntity] = []
            var selectorFailed = false
            for result in results {
                for warning in result.warnings {
                    summary.warnings += 1
                    if summary.sampleWarnings.count < 20 { summary.sampleWarnings.append(warning.description) }
                }
                switch result.outcome {
                case .entity(let portEntity):
                    summary.entities += 1
                    produced.append(DesiredEntity(blueprint: portEntity.blueprint, identifier: portEntity.identifier,
                                                  sourceRef: ref, canonical: CanonicalJSON.bytes(portEntity.body),
                                                  targets: portEntity.relationTargets.map(\.identifier)))
                case .filtered:
                    summary.filtered += 1
                case .dropped(let reason):
                    summary.dropped += 1
                    onWarning("\(ref): resources[\(result.resourceIndex)] dropped: \(reason)")
                case .selectorError(let message):
                    selectorFailed = true
                    summary.selectorErrors.append("\(ref): resources[\(result.resourceIndex)] selector: \(message)")
                    onWarning("\(ref): resources[\(result.resourceIndex)] selector: \(message)")
                }
            }
            // Keep what an entity mapped to before when its selector can't be evaluated.
            if selectorFailed { continue }
            for collision in try desired.replace(sourceRef: ref, with: produced, run: run) {
                onWarning("\(ref) maps to \(collision), which another entity also maps to: the later one wins")
            }
        }
    }
}
