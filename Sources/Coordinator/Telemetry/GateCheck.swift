/// One comparison of a wave gate: the metric, what was measured for the new release, the
/// baseline's value, the threshold derived from both, and the outcome.
public struct GateCheck: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Metric: String, Codable, Sendable, CaseIterable {
        case devicesReporting, installSuccessRate, latencyP95Us, accuracy, agreement, errorRate
    }

    public enum Outcome: String, Codable, Sendable {
        case passed, failed
        /// No measurement yet: the gate waits (and fails at its deadline).
        case inconclusive
        /// Nothing to compare with (no baseline value and no absolute limit).
        case skipped
    }

    public var metric: Metric
    public var measured: Double?
    public var baseline: Double?
    public var threshold: Double?
    public var outcome: Outcome
    public var detail: String

    public init(metric: Metric, measured: Double?, baseline: Double?, threshold: Double?, outcome: Outcome, detail: String) {
        self.metric = metric
        self.measured = measured
        self.baseline = baseline
        self.threshold = threshold
        self.outcome = outcome
        self.detail = detail
    }

    /// Passed or skipped: it does not hold the gate back.
    public var passed: Bool { outcome == .passed || outcome == .skipped }

    public var description: String { "\(metric.rawValue) \(outcome.rawValue): \(detail)" }
}
