/// The comparisons a wave gate makes, as plain functions of numbers: each returns the check
/// with what was measured, the baseline, the threshold it derived, and the outcome.
///
/// Formulas (docs/rollouts.md):
/// - devices reporting: passed when `reporting ≥ required`, else inconclusive (wait);
/// - install success: `committed ÷ (committed + failed)` ≥ `minRate`; inconclusive while
///   nothing settled;
/// - latency: threshold `baseline p95 × maxRatio`, or the absolute ceiling without a baseline;
///   passed when `new p95 ≤ threshold`;
/// - accuracy/agreement: threshold `baseline − maxDrop`, or the absolute floor without a
///   baseline; passed when `new ≥ threshold`;
/// - error rate: passed when `errors ÷ runs ≤ maxRate`.
/// A check with no reference (no baseline value, no absolute limit) is skipped; one with a
/// reference but no measurement is inconclusive. Comparisons allow a relative slack of 1e-9 so
/// 0.90 − 0.02 against a measured 0.88 is not failed by rounding.
public enum GateComparison {
    static let slack = 1e-9

    public static func devicesReporting(reporting: Int, required: Int) -> GateCheck {
        let ok = reporting >= required
        return GateCheck(
            metric: .devicesReporting, measured: Double(reporting), baseline: nil, threshold: Double(required),
            outcome: ok ? .passed : .inconclusive,
            detail: "\(reporting) of the \(required) devices required reported telemetry for the release")
    }

    public static func installSuccessRate(committed: Int, failed: Int, minRate: Double) -> GateCheck {
        let settled = committed + failed
        guard settled > 0 else {
            return GateCheck(
                metric: .installSuccessRate, measured: nil, baseline: nil, threshold: minRate, outcome: .inconclusive,
                detail: "no install has finished yet")
        }
        let rate = Double(committed) / Double(settled)
        return GateCheck(
            metric: .installSuccessRate, measured: rate, baseline: nil, threshold: minRate,
            outcome: atLeast(rate, minRate) ? .passed : .failed,
            detail: "\(committed) committed, \(failed) failed (rate \(percent(rate)), minimum \(percent(minRate)))")
    }

    /// `samples` latency samples stand behind `measured`; with fewer than `minSamples` the
    /// check stays inconclusive (the gate waits) whatever the value.
    public static func latencyP95(
        measured: Double?, baseline: Double?, maxRatio: Double, ceiling: Double?, samples: UInt64 = .max, minSamples: Int = 0
    ) -> GateCheck {
        let threshold: Double
        let basis: String
        if let baseline {
            threshold = baseline * maxRatio
            basis = "baseline p95 \(format(baseline)) µs × \(format(maxRatio))"
        } else if let ceiling {
            threshold = ceiling
            basis = "absolute ceiling (no baseline latency)"
        } else {
            return GateCheck(
                metric: .latencyP95Us, measured: measured, baseline: nil, threshold: nil, outcome: .skipped,
                detail: "no baseline latency and no maxLatencyP95Us ceiling: not checked")
        }
        guard let measured else {
            return GateCheck(
                metric: .latencyP95Us, measured: nil, baseline: baseline, threshold: threshold, outcome: .inconclusive,
                detail: "no inference latency reported for the release yet")
        }
        if samples < UInt64(max(minSamples, 0)) {
            return GateCheck(
                metric: .latencyP95Us, measured: measured, baseline: baseline, threshold: threshold, outcome: .inconclusive,
                detail: "not enough latency samples (\(samples) of \(minSamples)); p95 \(format(measured)) µs is not judged yet")
        }
        let ok = atMost(measured, threshold)
        return GateCheck(
            metric: .latencyP95Us, measured: measured, baseline: baseline, threshold: threshold, outcome: ok ? .passed : .failed,
            detail: "p95 \(format(measured)) µs \(ok ? "≤" : ">") \(format(threshold)) µs (\(basis))")
    }

    /// Accuracy or agreement: may drop by at most `maxDrop` below the baseline, or must reach
    /// `floor` without one.
    public static func floor(
        _ metric: GateCheck.Metric, measured: Double?, baseline: Double?, maxDrop: Double, floor: Double?
    ) -> GateCheck {
        let threshold: Double
        let basis: String
        if let baseline {
            threshold = baseline - maxDrop
            basis = "baseline \(format(baseline)) − \(format(maxDrop))"
        } else if let floor {
            threshold = floor
            basis = "absolute floor (no baseline \(metric.rawValue))"
        } else {
            return GateCheck(
                metric: metric, measured: measured, baseline: nil, threshold: nil, outcome: .skipped,
                detail: "no baseline \(metric.rawValue) and no absolute floor: not checked")
        }
        guard let measured else {
            return GateCheck(
                metric: metric, measured: nil, baseline: baseline, threshold: threshold, outcome: .inconclusive,
                detail: "no \(metric.rawValue) reported for the release yet")
        }
        let ok = atLeast(measured, threshold)
        return GateCheck(
            metric: metric, measured: measured, baseline: baseline, threshold: threshold, outcome: ok ? .passed : .failed,
            detail: "\(metric.rawValue) \(format(measured)) \(ok ? "≥" : "<") \(format(threshold)) (\(basis))")
    }

    public static func errorRate(measured: Double?, maxRate: Double?) -> GateCheck {
        guard let maxRate else {
            return GateCheck(
                metric: .errorRate, measured: measured, baseline: nil, threshold: nil, outcome: .skipped,
                detail: "no maxErrorRate: not checked")
        }
        guard let measured else {
            return GateCheck(
                metric: .errorRate, measured: nil, baseline: nil, threshold: maxRate, outcome: .inconclusive,
                detail: "no inference ran on the release yet")
        }
        let ok = atMost(measured, maxRate)
        return GateCheck(
            metric: .errorRate, measured: measured, baseline: nil, threshold: maxRate, outcome: ok ? .passed : .failed,
            detail: "error rate \(percent(measured)) \(ok ? "≤" : ">") \(percent(maxRate))")
    }

    static func atMost(_ value: Double, _ limit: Double) -> Bool { value <= limit + slack * max(1, abs(limit)) }
    static func atLeast(_ value: Double, _ limit: Double) -> Bool { value >= limit - slack * max(1, abs(limit)) }

    /// Up to 4 significant decimals, no trailing zeros: stable text for logs and tests.
    static func format(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        let scaled = (v * 10_000).rounded() / 10_000
        if scaled == scaled.rounded(), abs(scaled) < 1e15 { return String(Int64(scaled)) }
        return "\(scaled)"
    }

    static func percent(_ v: Double) -> String { format(v * 100) + "%" }
}
