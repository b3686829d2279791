import FleetProtocol

/// The live requests served by a freshly committed release, judged against its validation
/// figures until the watch window ends. A value: the service records, `regression` decides.
struct PostCommitWatch: Sendable, Equatable {
    /// The validation bundle's p95 of this release on this device (nil after a restart in the
    /// window: the report is not persisted, so only the error rate is judged then).
    var baselineP95Ms: Double?
    var latency = LatencyHistogram()
    var inferences: UInt64 = 0
    var errors: UInt64 = 0

    init(baselineP95Ms: Double?) { self.baselineP95Ms = baselineP95Ms }

    mutating func record(latencyUs: UInt64) {
        latency.record(latencyUs)
        inferences += 1
    }

    mutating func recordError() { errors += 1 }

    /// The first regression, error rate before latency; nil while healthy or before
    /// `minInferences` requests.
    func regression(_ t: WatchdogThresholds) -> CheckFailure? {
        let requests = inferences + errors
        guard requests >= UInt64(max(t.minInferences, 1)) else { return nil }
        let errorRate = Double(errors) / Double(requests)
        if errorRate > t.maxErrorRate { return CheckFailure(metric: "errorRate", measured: errorRate, threshold: t.maxErrorRate) }
        guard let baseline = baselineP95Ms, inferences >= UInt64(max(t.minInferences, 1)), let p95 = latency.percentile(0.95) else {
            return nil
        }
        let measured = Double(p95) / 1000
        let threshold = baseline * t.latencyTolerance + t.latencySlackMs
        return measured > threshold ? CheckFailure(metric: "latencyP95Ms", measured: measured, threshold: threshold) : nil
    }
}

/// The shadow period's tally: the trial model's top-1 answers against the serving model's on
/// the same live inputs, and both latencies.
struct ShadowTally: Sendable, Equatable {
    var compared = 0
    var agreeing = 0
    /// Requests the trial model failed on (counted as disagreements).
    var trialErrors = 0
    var servingLatency = LatencyHistogram()
    var trialLatency = LatencyHistogram()

    mutating func record(serving: [Int], trial: [Int]?, servingUs: UInt64, trialUs: UInt64?) {
        guard let trial, let trialUs else {
            trialErrors += 1
            compared += max(serving.count, 1)
            return
        }
        servingLatency.record(servingUs)
        trialLatency.record(trialUs)
        let rows = max(serving.count, trial.count)
        compared += rows
        agreeing += zip(serving, trial).filter { $0 == $1 }.count
    }

    var agreement: Double? { compared > 0 ? Double(agreeing) / Double(compared) : nil }

    /// Agreement below the floor fails; so does a trial p95 above the serving model's × the
    /// watchdog's latency tolerance (+ slack). Below `minSamples` compared rows nothing is judged.
    func failure(_ shadow: ShadowThresholds, latency: WatchdogThresholds) -> CheckFailure? {
        guard compared >= max(shadow.minSamples, 1), let agreement else { return nil }
        if agreement < shadow.minAgreement {
            return CheckFailure(metric: "shadowAgreement", measured: agreement, threshold: shadow.minAgreement)
        }
        if let s = servingLatency.percentile(0.95), let t = trialLatency.percentile(0.95) {
            let measured = Double(t) / 1000
            let threshold = Double(s) / 1000 * latency.latencyTolerance + latency.latencySlackMs
            if measured > threshold { return CheckFailure(metric: "shadowLatencyP95Ms", measured: measured, threshold: threshold) }
        }
        return nil
    }

    var summary: String {
        let a = agreement.map { "\(($0 * 1000).rounded() / 1000)" } ?? "n/a"
        return "shadow: \(compared) live rows compared, top-1 agreement \(a), \(trialErrors) trial errors"
    }
}
