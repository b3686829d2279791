/// Metrics a release is expected to reach, by name. Well-known keys have typed accessors; any
/// other key (a task-specific metric) travels as it is.
public struct ExpectedMetrics: Sendable, Equatable {
    public var values: [String: Double]

    public init(_ values: [String: Double] = [:]) { self.values = values }

    /// Top-1 accuracy of the int8 model on the labelled evaluation set, 0...1.
    public static let accuracyKey = "accuracy"
    /// Share of samples where the int8 model's top-1 equals the fp32 model's, 0...1.
    public static let fp32AgreementKey = "fp32_agreement"
    /// Accuracy the fp32 model reached on the same set, 0...1 (the baseline for drop gates).
    public static let fp32AccuracyKey = "fp32_accuracy"
    /// The p95 single-inference latency budget on this hardware class, in milliseconds.
    public static let latencyBudgetP95MillisecondsKey = "latency_p95_ms_budget"
    /// The largest accuracy drop against fp32 a device may observe before rolling back, 0...1.
    public static let maxAccuracyDropKey = "accuracy_drop_max"

    public var accuracy: Double? {
        get { values[Self.accuracyKey] }
        set { values[Self.accuracyKey] = newValue }
    }

    public var fp32Agreement: Double? {
        get { values[Self.fp32AgreementKey] }
        set { values[Self.fp32AgreementKey] = newValue }
    }

    public var fp32Accuracy: Double? {
        get { values[Self.fp32AccuracyKey] }
        set { values[Self.fp32AccuracyKey] = newValue }
    }

    public var latencyBudgetP95Milliseconds: Double? {
        get { values[Self.latencyBudgetP95MillisecondsKey] }
        set { values[Self.latencyBudgetP95MillisecondsKey] = newValue }
    }

    public var maxAccuracyDrop: Double? {
        get { values[Self.maxAccuracyDropKey] }
        set { values[Self.maxAccuracyDropKey] = newValue }
    }

    var json: JSONValue { .object(values.mapValues(JSONValue.double)) }

    init(json field: JSONField) throws(ArtifactError) {
        var values: [String: Double] = [:]
        for (key, value) in try field.members() { values[key] = try value.double() }
        self.values = values
    }
}
