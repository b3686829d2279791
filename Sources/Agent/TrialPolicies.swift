/// After commit, for the desired state's `watchSeconds`: the live inferences of the committed
/// release against its own validation figures (docs/agent.md, "Post-commit watchdog").
public struct WatchdogThresholds: Codable, Sendable, Equatable {
    /// No verdict before this many live requests (successes + errors) in the window: a few slow
    /// cold requests must not roll a release back.
    public var minInferences: Int
    /// Live p95 may reach the validation p95 × this (plus `latencySlackMs`).
    public var latencyTolerance: Double
    /// Added to the latency threshold: on sub-millisecond models, scheduler noise alone moves
    /// p95 by more than any ratio.
    public var latencySlackMs: Double
    /// Failed inferences / requests above this roll back. The validation bundle runs without
    /// errors (else it fails), so its error rate is 0 and the cap is absolute.
    public var maxErrorRate: Double

    public init(minInferences: Int = 50, latencyTolerance: Double = 1.5, latencySlackMs: Double = 1, maxErrorRate: Double = 0.05) {
        self.minInferences = minInferences
        self.latencyTolerance = latencyTolerance
        self.latencySlackMs = latencySlackMs
        self.maxErrorRate = maxErrorRate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WatchdogThresholds()
        self.init(
            minInferences: try c.decodeIfPresent(Int.self, forKey: .minInferences) ?? d.minInferences,
            latencyTolerance: try c.decodeIfPresent(Double.self, forKey: .latencyTolerance) ?? d.latencyTolerance,
            latencySlackMs: try c.decodeIfPresent(Double.self, forKey: .latencySlackMs) ?? d.latencySlackMs,
            maxErrorRate: try c.decodeIfPresent(Double.self, forKey: .maxErrorRate) ?? d.maxErrorRate)
    }

    func validate() throws(AgentError) {
        guard minInferences >= 1 else { throw .invalidConfig(field: "watchdog.minInferences", detail: "must be at least 1") }
        guard latencyTolerance >= 1 else {
            throw .invalidConfig(field: "watchdog.latencyTolerance", detail: "must be at least 1 (1.5 allows 50% above validation)")
        }
        guard latencySlackMs >= 0 else { throw .invalidConfig(field: "watchdog.latencySlackMs", detail: "must not be negative") }
        guard (0...1).contains(maxErrorRate) else { throw .invalidConfig(field: "watchdog.maxErrorRate", detail: "must be in 0...1") }
    }
}

/// The shadow period (`shadowSeconds` > 0): live requests answered by the serving model also run
/// on the trial model; the trial commits only if their top-1 answers agree often enough.
public struct ShadowThresholds: Codable, Sendable, Equatable {
    /// Top-1 agreement of the trial with the serving model below this fails the trial.
    public var minAgreement: Double
    /// Fewer compared requests than this: agreement is not judged (an idle device must still
    /// update; the validation bundle already passed). The result says how many were compared.
    public var minSamples: Int

    public init(minAgreement: Double = 0.9, minSamples: Int = 20) {
        self.minAgreement = minAgreement
        self.minSamples = minSamples
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ShadowThresholds()
        self.init(
            minAgreement: try c.decodeIfPresent(Double.self, forKey: .minAgreement) ?? d.minAgreement,
            minSamples: try c.decodeIfPresent(Int.self, forKey: .minSamples) ?? d.minSamples)
    }

    func validate() throws(AgentError) {
        guard (0...1).contains(minAgreement) else { throw .invalidConfig(field: "shadow.minAgreement", detail: "must be in 0...1") }
        guard minSamples >= 1 else { throw .invalidConfig(field: "shadow.minSamples", detail: "must be at least 1") }
    }
}

/// A check that failed: what, how much, against what.
struct CheckFailure: Sendable, Equatable {
    var metric: String
    var measured: Double
    var threshold: Double
}
