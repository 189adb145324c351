/// Problems said once: grouped by cause, each with how many times it happened and one example,
/// so a failure that hits 2,000 entities is one line, not 2,000 (those go to `--log-level debug`).
public struct ProblemTally: Sendable {
    public struct Group: Sendable, Equatable {
        /// What it concerns (`port`, `backstage`, `mapping`).
        public let topic: String
        public let cause: String
        public var count: Int
        /// The first thing it happened to (an entity ref, a kind).
        public let example: String
        /// What `count` counts (`entities`, `kinds`, `items`).
        public let unit: String
    }

    public private(set) var groups: [Group] = []

    public init() {}

    public mutating func add(_ topic: String, cause: String, example: String, unit: String = "entities") {
        if let index = groups.firstIndex(where: { $0.topic == topic && $0.cause == cause }) {
            groups[index].count += 1
        } else {
            groups.append(Group(topic: topic, cause: cause, count: 1, example: example, unit: unit))
        }
    }

    /// One line per cause: `port: 32 entities: Port answered 500 …, e.g. component/x`.
    public var lines: [String] {
        groups.map { group in
            "\(group.topic): \(ProblemTally.count(group.count)) \(group.count == 1 ? ProblemTally.singular(group.unit) : group.unit): \(group.cause), e.g. \(group.example)"
        }
    }

    /// `1500` as `1,500`.
    public static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return value < 0 ? "-" + text : text
    }

    private static func singular(_ unit: String) -> String {
        switch unit {
        case "entities": return "entity"
        default: return unit.hasSuffix("s") ? String(unit.dropLast()) : unit
        }
    }
}
