/// Word lists and text helpers for the catalog generator.
enum Words {
    static let areas = [
        "payments", "checkout", "search", "catalog", "billing", "identity", "inventory", "shipping",
        "analytics", "messaging", "playback", "artist", "podcast", "recommendation", "ads", "fraud",
        "pricing", "ledger", "notification", "profile", "onboarding", "reporting", "storage", "media",
    ]
    static let componentSuffixes = [
        "service", "service", "service", "web", "worker", "gateway", "lib", "sdk", "backend", "frontend", "processor",
    ]
    static let lifecycles = ["production", "production", "production", "experimental", "deprecated"]
    static let tags = [
        "java", "go", "python", "typescript", "kotlin", "rust", "grpc", "rest", "internal", "pci", "tier-1",
        "tier-2", "tier-3", "kafka", "postgres", "redis", "public", "gdpr",
    ]
    static let firstNames = [
        "ava", "liam", "noah", "emma", "olivia", "lucas", "mia", "amir", "sofia", "yuki", "chen", "fatima",
        "mateo", "ingrid", "kwame", "priya", "jonas", "elena", "tariq", "hana",
    ]
    static let lastNames = [
        "smith", "nguyen", "garcia", "mueller", "rossi", "kim", "okafor", "patel", "silva", "johansson",
        "kowalski", "tanaka", "haddad", "dubois", "novak", "larsen", "moreau", "costa", "ibrahim", "walsh",
    ]
    private static let purposes = [
        "handles the core request flow", "owns the data model and its migrations",
        "serves the public endpoints behind the edge gateway", "runs the nightly reconciliation jobs",
        "aggregates events from the upstream producers", "exposes read models to the web and mobile apps",
        "wraps the third-party provider with retries and caching", "publishes domain events for downstream teams",
    ]
    private static let notes = [
        "See the runbook before paging the on-call engineer.",
        "Changes require a design review with the platform group.",
        "Latency budget is 200 ms at the 99th percentile.",
        "Deployed through the standard pipeline with canary analysis.",
        "Data is classified as internal; customer identifiers are pseudonymized.",
        "Scheduled for consolidation in the next planning cycle.",
    ]

    /// "payments-service-12" becomes "Payments Service 12".
    static func title(_ name: String) -> String {
        name.split(whereSeparator: { $0 == "-" || $0 == "." }).map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined(separator: " ")
    }

    static func description(for kind: String, name: String, random: inout SeededRandom) -> String {
        switch kind {
        case "User":
            return "\(title(name)) works on \(random.pick(areas)) and \(random.pick(areas))."
        case "Group":
            return "The \(title(name)) group. \(random.pick(notes))"
        default:
            return "\(title(name)) \(random.pick(purposes)) for the \(random.pick(areas)) area. \(random.pick(notes))"
        }
    }
}
