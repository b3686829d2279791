public import FleetProtocol

/// What a wave gate reads about one release on one hardware class: how many devices reported,
/// how much they ran, and the latency and accuracy figures derived from the merged telemetry.
public struct ClassMetrics: Codable, Sendable, Equatable {
    /// Distinct devices with at least one summary in the window.
    public var devicesReporting: Int
    /// Successful inferences.
    public var inferences: UInt64
    /// Failed inferences (not counted in `inferences`).
    public var errors: UInt64
    /// Percentiles of the merged latency histogram (µs); nil when no inference ran.
    public var latencyP50Us: UInt64?
    public var latencyP95Us: UInt64?
    public var latencyP99Us: UInt64?
    /// Mean of the summaries' validation accuracy / agreement (0...1); nil when none carried one.
    public var meanAccuracy: Double?
    public var meanAgreement: Double?

    public init(
        devicesReporting: Int, inferences: UInt64, errors: UInt64, latencyP50Us: UInt64? = nil, latencyP95Us: UInt64?,
        latencyP99Us: UInt64? = nil, meanAccuracy: Double?, meanAgreement: Double?
    ) {
        self.devicesReporting = devicesReporting
        self.inferences = inferences
        self.errors = errors
        self.latencyP50Us = latencyP50Us
        self.latencyP95Us = latencyP95Us
        self.latencyP99Us = latencyP99Us
        self.meanAccuracy = meanAccuracy
        self.meanAgreement = meanAgreement
    }

    /// From merged aggregates (as the store keeps them): the histogram of every summary's
    /// latencies merged (exact), and plain sums.
    public init(
        devicesReporting: Int, latency: LatencyHistogram, inferences: UInt64, errors: UInt64, accuracySum: Double, accuracyCount: Int,
        agreementSum: Double, agreementCount: Int
    ) {
        self.init(
            devicesReporting: devicesReporting, inferences: inferences, errors: errors, latencyP50Us: latency.percentile(0.5),
            latencyP95Us: latency.percentile(0.95), latencyP99Us: latency.percentile(0.99),
            meanAccuracy: accuracyCount > 0 ? accuracySum / Double(accuracyCount) : nil,
            meanAgreement: agreementCount > 0 ? agreementSum / Double(agreementCount) : nil)
    }

    /// Failed runs ÷ all runs: the agent counts a failed inference in `errors` only, not in
    /// `inferences`. nil when nothing ran.
    public var errorRate: Double? {
        let attempts = Double(inferences) + Double(errors)
        return attempts > 0 ? Double(errors) / attempts : nil
    }
}

/// An in-memory aggregate of telemetry summaries for one (release, class): the same merge the
/// store performs per bucket, for callers without a store (tests, the simulator, one-shot
/// reports). Summaries replayed or delivered out of order are dropped by per-device sequence.
public struct TelemetryAccumulator: Codable, Sendable, Equatable {
    public enum MergeOutcome: Sendable, Equatable {
        case merged
        /// Its sequence is not above the last merged from that device.
        case duplicate
        /// Malformed: the reason says which field.
        case refused(String)
    }

    public private(set) var latency = LatencyHistogram()
    public private(set) var inferences: UInt64 = 0
    public private(set) var errors: UInt64 = 0
    public private(set) var accuracySum: Double = 0
    public private(set) var accuracyCount = 0
    public private(set) var agreementSum: Double = 0
    public private(set) var agreementCount = 0
    /// device id → the last summary sequence merged from it.
    public private(set) var lastSequence: [String: UInt64] = [:]

    public init() {}

    public mutating func merge(_ summary: TelemetrySummary) -> MergeOutcome {
        if let refusal = Self.refusal(summary) { return .refused(refusal) }
        if let last = lastSequence[summary.deviceID], summary.sequence <= last { return .duplicate }
        lastSequence[summary.deviceID] = summary.sequence
        latency.merge(summary.latencyUs)
        inferences = inferences.addingReportingOverflow(summary.inferences).overflow ? .max : inferences + summary.inferences
        errors = errors.addingReportingOverflow(summary.errors).overflow ? .max : errors + summary.errors
        if let a = summary.validationAccuracy {
            accuracySum += a
            accuracyCount += 1
        }
        if let a = summary.validationAgreement {
            agreementSum += a
            agreementCount += 1
        }
        return .merged
    }

    public var metrics: ClassMetrics {
        ClassMetrics(
            devicesReporting: lastSequence.count, latency: latency, inferences: inferences, errors: errors, accuracySum: accuracySum,
            accuracyCount: accuracyCount, agreementSum: agreementSum, agreementCount: agreementCount)
    }

    static func refusal(_ s: TelemetrySummary) -> String? {
        func fraction(_ name: String, _ v: Double?) -> String? {
            guard let v, !(v >= 0 && v <= 1) else { return nil }
            return "telemetry from '\(s.deviceID)' (sequence \(s.sequence)): \(name) \(v) is outside 0...1"
        }
        if s.windowEndMs < s.windowStartMs {
            return "telemetry from '\(s.deviceID)' (sequence \(s.sequence)): window ends before it starts"
        }
        return fraction("validationAccuracy", s.validationAccuracy) ?? fraction("validationAgreement", s.validationAgreement)
    }
}
