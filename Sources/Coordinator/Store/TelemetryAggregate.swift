public import FleetProtocol

/// Telemetry of one artifact on one hardware class over a time range: one bucket, or the merge
/// of several (`telemetryTotals`). Every field merges exactly, so the totals over buckets equal
/// the merge of the summaries themselves.
public struct TelemetryAggregate: Codable, Sendable, Equatable {
    public var artifactDigest: String
    public var hardwareClass: String
    /// [startMs, endMs): one bucket's span, or from the first bucket's start to the last's end.
    public var startMs: Int64
    public var endMs: Int64
    public var latencyUs: LatencyHistogram
    public var inferences: UInt64
    public var errors: UInt64
    public var accuracySum: Double
    public var accuracyCount: UInt64
    public var agreementSum: Double
    public var agreementCount: UInt64
    /// How many summaries were merged.
    public var summaries: UInt64
    /// The devices that reported in the range, sorted, each once.
    public var deviceIDs: [String]
    public var rssMaxBytes: UInt64

    public init(
        artifactDigest: String, hardwareClass: String, startMs: Int64, endMs: Int64, latencyUs: LatencyHistogram = LatencyHistogram(),
        inferences: UInt64 = 0, errors: UInt64 = 0, accuracySum: Double = 0, accuracyCount: UInt64 = 0, agreementSum: Double = 0,
        agreementCount: UInt64 = 0, summaries: UInt64 = 0, deviceIDs: [String] = [], rssMaxBytes: UInt64 = 0
    ) {
        self.artifactDigest = artifactDigest
        self.hardwareClass = hardwareClass
        self.startMs = startMs
        self.endMs = endMs
        self.latencyUs = latencyUs
        self.inferences = inferences
        self.errors = errors
        self.accuracySum = accuracySum
        self.accuracyCount = accuracyCount
        self.agreementSum = agreementSum
        self.agreementCount = agreementCount
        self.summaries = summaries
        self.deviceIDs = deviceIDs
        self.rssMaxBytes = rssMaxBytes
    }

    /// Mean of the reported validation accuracies (nil when none was reported).
    public var meanAccuracy: Double? { accuracyCount == 0 ? nil : accuracySum / Double(accuracyCount) }
    public var meanAgreement: Double? { agreementCount == 0 ? nil : agreementSum / Double(agreementCount) }
    /// errors / (inferences + errors); nil when nothing ran.
    public var errorRate: Double? {
        let total = inferences &+ errors
        return total == 0 ? nil : Double(errors) / Double(total)
    }
}

/// What `mergeTelemetry` did with a summary.
public enum TelemetryMergeOutcome: String, Sendable, Equatable {
    case merged
    /// This device already delivered this or a later summary into the bucket (an outbox
    /// replay or a redelivery): nothing counted twice.
    case duplicate
    /// The summary names no running model (`artifactDigest == nil`): nothing to aggregate.
    case noModel
    /// Its bucket is older than the retention cut-off already applied: merging would resurrect
    /// a deleted bucket with partial data.
    case expired
}
