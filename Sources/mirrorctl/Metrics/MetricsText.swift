import Foundation

/// One metric family as Prometheus scrapes it: a name, a type, a help line and its samples.
struct MetricFamily {
    enum Kind: String {
        case gauge, counter
    }

    struct Sample {
        /// Label names and values, in the order written.
        var labels: [(name: String, value: String)]
        var value: Double
    }

    let name: String
    let kind: Kind
    let help: String
    var samples: [Sample] = []

    init(_ name: String, _ kind: Kind, help: String, samples: [Sample] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.samples = samples
    }

    /// A family with one unlabelled sample.
    init(_ name: String, _ kind: Kind, help: String, value: Double) {
        self.init(name, kind, help: help, samples: [Sample(labels: [], value: value)])
    }

    /// A family with one sample per label value, sorted by it (stable output).
    init(_ name: String, _ kind: Kind, help: String, label: String, values: [String: Double]) {
        self.init(name, kind, help: help, samples: values.sorted { $0.key < $1.key }.map {
            Sample(labels: [(label, $0.key)], value: $0.value)
        })
    }
}

/// The Prometheus text exposition format, version 0.0.4 (also what node_exporter's textfile
/// collector reads): `# HELP` and `# TYPE` lines, then one `name{label="value"} number` line per
/// sample. The one writer of it, for `/metrics` and `sync --metrics-file` alike.
enum MetricsText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ families: [MetricFamily]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                text += family.name
                if !sample.labels.isEmpty {
                    text += "{" + sample.labels.map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }.joined(separator: ",") + "}"
                }
                text += " \(number(sample.value))\n"
            }
        }
        return text
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Help text escapes backslash and line feed (quotes stay as they are).
    static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Integers without a fraction; infinities and NaN as Prometheus spells them.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
