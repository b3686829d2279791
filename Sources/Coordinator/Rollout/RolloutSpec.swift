public import FleetProtocol

/// Everything a rollout is asked to do, fixed when it starts: which release, to which devices
/// (the target selector text is resolved by the caller), in which waves, gated how, and what a
/// failed gate does. Persisted as JSON beside the rollout's state.
public struct RolloutSpec: Codable, Sendable, Equatable {
    public var rolloutID: String
    public var modelName: String
    public var version: String
    /// The manifest's monotonic release sequence of the new release.
    public var releaseSequence: UInt64
    /// The label selector text (kept for display; the caller resolves it to devices).
    public var target: String
    /// Cumulative fractions of each class's matching devices, e.g. [0.01, 0.1, 0.5, 1.0].
    public var waves: [Double]
    /// How long a wave's devices run the release before its gate is judged.
    public var soakMs: Int64
    /// hardware class → the variant built for it (what goes into desired states).
    public var variants: [String: ArtifactDescriptor]
    /// hardware class → the release that class ran before (what a rollback returns to);
    /// absent when the class has nothing to go back to.
    public var baselines: [String: ArtifactDescriptor]
    public var gate: GatePolicy
    public var rollbackPolicy: RollbackPolicy
    /// Shadow and watch periods the agents apply to the new release.
    public var trial: TrialPolicy
    /// When a class without a baseline is rolled back: true sends its devices a desired state
    /// with no artifact ("keep what runs"), which stops downloads and installs that have not
    /// happened yet and replaces the retained desired state naming the failed release; false
    /// leaves their desired state alone (only downloads in flight are cancelled). A device
    /// that already runs the release keeps it either way: the agent has nothing to go back to.
    public var clearDesiredWithoutBaseline: Bool

    public init(
        rolloutID: String, modelName: String, version: String, releaseSequence: UInt64, target: String,
        waves: [Double] = [0.01, 0.1, 0.5, 1.0], soakMs: Int64 = 600_000, variants: [String: ArtifactDescriptor],
        baselines: [String: ArtifactDescriptor] = [:], gate: GatePolicy = GatePolicy(), rollbackPolicy: RollbackPolicy = .failingClass,
        trial: TrialPolicy = TrialPolicy(), clearDesiredWithoutBaseline: Bool = true
    ) {
        self.rolloutID = rolloutID
        self.modelName = modelName
        self.version = version
        self.releaseSequence = releaseSequence
        self.target = target
        self.waves = waves
        self.soakMs = soakMs
        self.variants = variants
        self.baselines = baselines
        self.gate = gate
        self.rollbackPolicy = rollbackPolicy
        self.trial = trial
        self.clearDesiredWithoutBaseline = clearDesiredWithoutBaseline
    }

    /// The new release's artifact digest for a class (nil: no variant for it).
    public func digest(forClass hardwareClass: String) -> String? { variants[hardwareClass]?.artifactDigest }
}

/// What a failed gate does to the fleet.
public enum RollbackPolicy: String, Codable, Sendable, CaseIterable {
    /// The failing class halts and its devices go back to its baseline; other classes go on.
    case failingClass
    /// Every class halts and every device that got the release goes back.
    case all
    /// The rollout halts; nothing is rolled back (an operator decides).
    case none
}

/// The thresholds of a wave gate. Ratios and drops compare the new release with the baseline
/// release on the same class; the absolute limits apply when a class has no baseline numbers.
public struct GatePolicy: Codable, Sendable, Equatable {
    /// Devices of the class that must have reported telemetry for the new release (capped at
    /// the number of devices the class has in the waves so far, so a 1-device canary can pass).
    public var minDevicesReporting: Int
    /// Committed installs ÷ (committed + failed installs), 0...1.
    public var minInstallSuccessRate: Double
    /// New p95 latency ÷ baseline p95 must not exceed this.
    public var maxLatencyP95Ratio: Double
    /// Baseline accuracy − new accuracy must not exceed this (absolute, 0...1).
    public var maxAccuracyDrop: Double
    /// Baseline agreement − new agreement must not exceed this (absolute, 0...1).
    public var maxAgreementDrop: Double
    /// Ceiling on the new p95 (µs) when the class has no baseline latency; nil: unchecked.
    public var maxLatencyP95Us: Double?
    /// Floor on the new accuracy when the class has no baseline accuracy; nil: unchecked.
    public var minAccuracy: Double?
    /// Floor on the new agreement when the class has no baseline agreement; nil: unchecked.
    public var minAgreement: Double?
    /// Ceiling on failed ÷ all inference runs of the new release; nil: unchecked.
    public var maxErrorRate: Double?
    /// A class whose gate is still undecided this long after its wave began fails.
    public var gateTimeoutMs: Int64
    /// Latency samples (inferences of the new release on the class) the p95 check needs
    /// before it decides either way; below it the gate waits, and fails at its timeout with
    /// "not enough latency samples (n of m)". A p95 of a handful of runs is noise.
    public var minLatencySamples: Int

    public static let defaultMinLatencySamples = 100

    public init(
        minDevicesReporting: Int = 1, minInstallSuccessRate: Double = 0.95, maxLatencyP95Ratio: Double = 1.2,
        maxAccuracyDrop: Double = 0.02, maxAgreementDrop: Double = 0.02, maxLatencyP95Us: Double? = nil, minAccuracy: Double? = nil,
        minAgreement: Double? = nil, maxErrorRate: Double? = nil, gateTimeoutMs: Int64 = 3_600_000,
        minLatencySamples: Int = GatePolicy.defaultMinLatencySamples
    ) {
        self.minLatencySamples = minLatencySamples
        self.minDevicesReporting = minDevicesReporting
        self.minInstallSuccessRate = minInstallSuccessRate
        self.maxLatencyP95Ratio = maxLatencyP95Ratio
        self.maxAccuracyDrop = maxAccuracyDrop
        self.maxAgreementDrop = maxAgreementDrop
        self.maxLatencyP95Us = maxLatencyP95Us
        self.minAccuracy = minAccuracy
        self.minAgreement = minAgreement
        self.maxErrorRate = maxErrorRate
        self.gateTimeoutMs = gateTimeoutMs
    }
}

extension GatePolicy {
    private enum CodingKeys: String, CodingKey {
        case minDevicesReporting, minInstallSuccessRate, maxLatencyP95Ratio, maxAccuracyDrop, maxAgreementDrop, maxLatencyP95Us,
            minAccuracy, minAgreement, maxErrorRate, gateTimeoutMs, minLatencySamples
    }

    /// Specs stored before `minLatencySamples` existed decode with the default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            minDevicesReporting: try c.decode(Int.self, forKey: .minDevicesReporting),
            minInstallSuccessRate: try c.decode(Double.self, forKey: .minInstallSuccessRate),
            maxLatencyP95Ratio: try c.decode(Double.self, forKey: .maxLatencyP95Ratio),
            maxAccuracyDrop: try c.decode(Double.self, forKey: .maxAccuracyDrop),
            maxAgreementDrop: try c.decode(Double.self, forKey: .maxAgreementDrop),
            maxLatencyP95Us: try c.decodeIfPresent(Double.self, forKey: .maxLatencyP95Us),
            minAccuracy: try c.decodeIfPresent(Double.self, forKey: .minAccuracy),
            minAgreement: try c.decodeIfPresent(Double.self, forKey: .minAgreement),
            maxErrorRate: try c.decodeIfPresent(Double.self, forKey: .maxErrorRate),
            gateTimeoutMs: try c.decode(Int64.self, forKey: .gateTimeoutMs),
            minLatencySamples: try c.decodeIfPresent(Int.self, forKey: .minLatencySamples) ?? Self.defaultMinLatencySamples)
    }
}
