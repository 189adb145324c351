import Fetch
import Store

/// The walk and its record: consumes what `CatalogWalker` hands over, page by page, recording
/// each entity in the run's snapshot and saving what the walk mapped, and collects what the rest
/// of the run needs to know about the walk.
final class WalkStage {
    /// What the walk found.
    struct Result {
        /// One per kind, in the order the run asked for them.
        let outcomes: [KindOutcome]
        /// Of `outcomes`, the kinds whose walk did not complete.
        let incomplete: [KindOutcome]
        /// What the source could not read (a `file:` source).
        let descriptors: DescriptorReport
        /// Refs the run created or updated that the walk did not map (the mapping stage maps them after).
        let unmapped: Set<EntityRef>
        /// Items skipped, by cause.
        let problems: ProblemTally

        /// Why the walk fell short, one clause per incomplete kind and one for descriptor problems.
        var error: String? {
            var errors = incomplete.map { "\($0.kind): \($0.error ?? "incomplete")" }
            if let first = descriptors.problems.first {
                let count = descriptors.problems.count
                errors.append("\(count) descriptor problem\(count == 1 ? "" : "s"), e.g. \(first)")
            }
            return errors.isEmpty ? nil : errors.joined(separator: "; ")
        }
    }

    private let writer: SnapshotWriter
    private let mapping: MappingStage
    private let messages: RunMessages
    private var outcomes: [KindOutcome] = []
    private var unmapped = Set<EntityRef>()
    private var descriptors = DescriptorReport()
    private var problems = ProblemTally()

    init(writer: SnapshotWriter, mapping: MappingStage, messages: RunMessages) {
        self.writer = writer
        self.mapping = mapping
        self.messages = messages
    }

    /// Walks `plans`, recording as it goes; `kinds` is the order the outcomes are reported in.
    func run(_ walker: CatalogWalker, plans: [CatalogWalker.Plan], kinds: [String]) throws -> Result {
        try walker.run(plans) { try record($0) }
        // Report kinds in the order asked, whatever order their walks finished in.
        outcomes.sort { (kinds.firstIndex(of: $0.kind) ?? 0) < (kinds.firstIndex(of: $1.kind) ?? 0) }
        return Result(outcomes: outcomes, incomplete: outcomes.filter { !$0.complete }, descriptors: descriptors,
                      unmapped: unmapped, problems: problems)
    }

    /// One message of the walk, on the thread that writes the database.
    private func record(_ message: WalkMessage) throws {
        switch message {
        case .entities(_, _, let walked):
            // Stored and mapped page by page: the mapped sources of a page are one batch.
            let mapsOnWalk = mapping.mapsOnWalk  // decided by `MappingStage.begin`
            var fresh: [MappedSource] = []
            var replacing: [MappedSource] = []
            for item in walked {
                guard let change = try writer.record(item.entity), mapsOnWalk else { continue }
                switch change.change {
                case .created, .updated:
                    if let mapped = item.mapped {
                        if change.replacesEarlierCopy { replacing.append(mapped) } else { fresh.append(mapped) }
                        unmapped.remove(change.ref)
                    } else {
                        unmapped.insert(change.ref)
                    }
                case .unchanged where change.replacesEarlierCopy:
                    unmapped.insert(change.ref)  // reverts an earlier copy of this walk: map the stored body
                default:
                    break
                }
            }
            try mapping.save(walked: fresh, fresh: true, onDetail: messages.detail)
            try mapping.save(walked: replacing, fresh: false, onDetail: messages.detail)
        case .unchanged(_, let positions):
            writer.recordUnchanged(positions)
        case .warning(let text):
            messages.warn(text)
        case .descriptors(let report):
            guard descriptors.isEmpty else { break }
            descriptors = report
            for line in report.skipped { messages.send(.detail("skipped \(line)")) }
            for line in report.notices { messages.send(.notice(line)) }
            for problem in report.problems { messages.warn("descriptor \(problem)") }
        case .skipped(let kind, let reason, let place):
            messages.detail("\(place): skipped an item: \(reason)")
            problems.add("backstage", cause: "\(kind): skipped an item: \(reason)", example: place, unit: "items")
        case .event(let event):
            messages.send(event)
        case .finished(let outcome):
            outcomes.append(outcome)
            // Entities of a file that could not be read can't be told from deleted ones.
            try writer.finishKind(outcome, withholdingDeletes: !descriptors.problems.isEmpty)
            if outcome.complete, outcome.fetched == 0 {
                messages.send(.notice("kind \(outcome.kind): the source has no entities of this kind"))
            }
            messages.send(.kindFinished(outcome))
        }
    }
}
