/// A Prometheus text exposition (format 0.0.4, `text/plain; version=0.0.4`): metric families
/// with `# HELP` and `# TYPE`, samples with escaped label values, summaries with quantiles,
/// `_sum` and `_count`. Families render in the order they were added; labels by name (a
/// summary's `quantile` last), so the text is deterministic and diffable.
public struct PrometheusExposition: Sendable, Equatable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public enum MetricType: String, Sendable {
        case counter, gauge, summary, untyped
    }

    public struct Sample: Sendable, Equatable {
        public var labels: [String: String]
        public var value: Double

        public init(labels: [String: String] = [:], value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    public struct SummarySample: Sendable, Equatable {
        public var labels: [String: String]
        /// (quantile 0...1, value), in the order to print.
        public var quantiles: [Quantile]
        public var sum: Double
        public var count: UInt64

        public init(labels: [String: String] = [:], quantiles: [Quantile], sum: Double, count: UInt64) {
            self.labels = labels
            self.quantiles = quantiles
            self.sum = sum
            self.count = count
        }
    }

    public struct Quantile: Sendable, Equatable {
        public var quantile: Double
        public var value: Double

        public init(_ quantile: Double, _ value: Double) {
            self.quantile = quantile
            self.value = value
        }
    }

    enum Body: Sendable, Equatable {
        case samples([Sample])
        case summaries([SummarySample])
    }

    struct Family: Sendable, Equatable {
        var name: String
        var help: String
        var type: MetricType
        var body: Body
    }

    private(set) var families: [Family] = []
    /// Every sample name in use (a summary takes `name`, `name_sum` and `name_count`).
    private var names: Set<String> = []

    public init() {}

    public mutating func addCounter(_ name: String, help: String, _ samples: [Sample]) throws(PrometheusError) {
        for s in samples where !(s.value >= 0) {
            throw .invalidValue(metric: name, detail: "counter value \(s.value) must be a non-negative number")
        }
        try add(Family(name: name, help: help, type: .counter, body: .samples(samples)))
    }

    public mutating func addGauge(_ name: String, help: String, _ samples: [Sample]) throws(PrometheusError) {
        try add(Family(name: name, help: help, type: .gauge, body: .samples(samples)))
    }

    public mutating func addSummary(_ name: String, help: String, _ samples: [SummarySample]) throws(PrometheusError) {
        for s in samples {
            if s.labels["quantile"] != nil {
                throw .invalidLabel(metric: name, label: "quantile", detail: "is reserved for a summary's quantiles")
            }
            for q in s.quantiles where !(q.quantile >= 0 && q.quantile <= 1) {
                throw .invalidValue(metric: name, detail: "quantile \(q.quantile) is outside 0...1")
            }
        }
        try add(Family(name: name, help: help, type: .summary, body: .summaries(samples)))
    }

    private mutating func add(_ family: Family) throws(PrometheusError) {
        try Self.validateMetricName(family.name)
        let taken = family.type == .summary ? [family.name, family.name + "_sum", family.name + "_count"] : [family.name]
        for n in taken where names.contains(n) {
            throw .duplicateMetric(name: n)
        }
        let labelSets: [[String: String]] =
            switch family.body {
            case .samples(let s): s.map(\.labels)
            case .summaries(let s): s.map(\.labels)
            }
        var seen: Set<[String: String]> = []
        for labels in labelSets {
            for name in labels.keys { try Self.validateLabelName(name, metric: family.name) }
            guard seen.insert(labels).inserted else {
                throw .invalidLabel(metric: family.name, label: Self.labelText(labels, extra: nil), detail: "appears twice in the family")
            }
        }
        names.formUnion(taken)
        families.append(family)
    }

    /// The exposition text, ending with a newline.
    public func render() -> String {
        var text = ""
        for f in families {
            text += "# HELP \(f.name) \(Self.escapeHelp(f.help))\n"
            text += "# TYPE \(f.name) \(f.type.rawValue)\n"
            switch f.body {
            case .samples(let samples):
                for s in samples { text += "\(f.name)\(Self.labelText(s.labels, extra: nil)) \(Self.formatValue(s.value))\n" }
            case .summaries(let samples):
                for s in samples {
                    for q in s.quantiles {
                        let quantile = ("quantile", Self.formatValue(q.quantile))
                        text += "\(f.name)\(Self.labelText(s.labels, extra: quantile)) \(Self.formatValue(q.value))\n"
                    }
                    text += "\(f.name)_sum\(Self.labelText(s.labels, extra: nil)) \(Self.formatValue(s.sum))\n"
                    text += "\(f.name)_count\(Self.labelText(s.labels, extra: nil)) \(s.count)\n"
                }
            }
        }
        return text
    }
}

/// A metric the exposition refuses: names the metric (and label) and what the format requires.
public enum PrometheusError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidMetricName(String)
    case invalidLabel(metric: String, label: String, detail: String)
    case invalidValue(metric: String, detail: String)
    case duplicateMetric(name: String)

    public var description: String {
        switch self {
        case .invalidMetricName(let name):
            "metric name '\(name)' is invalid: use [a-zA-Z_:][a-zA-Z0-9_:]*"
        case .invalidLabel(let metric, let label, let detail):
            "metric '\(metric)': label \(label) \(detail)"
        case .invalidValue(let metric, let detail):
            "metric '\(metric)': \(detail)"
        case .duplicateMetric(let name):
            "metric name '\(name)' is already used by another family; each name may appear once"
        }
    }
}
