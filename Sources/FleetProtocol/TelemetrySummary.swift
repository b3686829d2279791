/// A periodic, compact summary of one device's inference over a time window, published QoS 1
/// on `.../telemetry`. The coordinator merges histograms across devices per (release × class)
/// for wave gates, which is why latency is a histogram and not precomputed percentiles.
public struct TelemetrySummary: WireMessage, Equatable {
    public static let messageType = "telemetry"

    public var deviceID: String
    public var sequence: UInt64
    public var windowStartMs: Int64
    public var windowEndMs: Int64
    /// The model the window's numbers belong to.
    public var artifactDigest: String?
    public var releaseSequence: UInt64?
    /// "trial" or "committed" (`RunningModel.Status`), or the agent's phase when nothing runs.
    public var state: String
    /// Inference latency in microseconds.
    public var latencyUs: LatencyHistogram
    public var inferences: UInt64
    public var errors: UInt64
    /// Last validation-bundle results for the running model (fractions 0...1).
    public var validationAccuracy: Double?
    public var validationAgreement: Double?
    public var rssBytes: UInt64

    public init(
        deviceID: String, sequence: UInt64, windowStartMs: Int64, windowEndMs: Int64, artifactDigest: String?, releaseSequence: UInt64?,
        state: String, latencyUs: LatencyHistogram, inferences: UInt64, errors: UInt64, validationAccuracy: Double? = nil,
        validationAgreement: Double? = nil, rssBytes: UInt64
    ) {
        self.deviceID = deviceID
        self.sequence = sequence
        self.windowStartMs = windowStartMs
        self.windowEndMs = windowEndMs
        self.artifactDigest = artifactDigest
        self.releaseSequence = releaseSequence
        self.state = state
        self.latencyUs = latencyUs
        self.inferences = inferences
        self.errors = errors
        self.validationAccuracy = validationAccuracy
        self.validationAgreement = validationAgreement
        self.rssBytes = rssBytes
    }

    /// The p50/p95/p99 the gates read, in microseconds (nil when no inference ran).
    public var latencyPercentiles: (p50: UInt64, p95: UInt64, p99: UInt64)? {
        guard let p50 = latencyUs.percentile(0.5), let p95 = latencyUs.percentile(0.95), let p99 = latencyUs.percentile(0.99) else {
            return nil
        }
        return (p50, p95, p99)
    }
}
