public import FleetProtocol

/// What the caller must do after a step, in order. The engine does no I/O: the coordinator
/// service signs and publishes desired states (allocating their per-device sequence), drives
/// the chunk publisher, writes the audit log and reports status.
public enum RolloutAction: Codable, Sendable, Equatable {
    /// Publish a desired state installing `artifact` (this class's variant) with `trial`.
    case setDesired(deviceID: String, artifact: ArtifactDescriptor, trial: TrialPolicy, rolloutID: String)
    /// Publish a desired state returning the device to `artifact` (its class's baseline) with
    /// this signed rollback directive.
    case rollBack(deviceID: String, artifact: ArtifactDescriptor, directive: RollbackDirective, rolloutID: String)
    /// Publish a desired state with no artifact (keep what runs), replacing one that named the
    /// release; for classes with no baseline (see `RolloutSpec.clearDesiredWithoutBaseline`).
    case clearDesired(deviceID: String, reason: String, rolloutID: String)
    /// Publish (class, digest)'s chunks once on its artifact topic for the devices of `wave`.
    case publishChunks(hardwareClass: String, artifactDigest: String, wave: Int)
    /// Publish a `DownloadCancel` and stop publishing chunks for (class, digest).
    case cancelDownloads(hardwareClass: String, artifactDigest: String, releaseSequence: UInt64, reason: String)
    /// A gate was decided (passed or failed).
    case gateEvaluated(GateResult)
    case statusChanged(from: RolloutStatus, to: RolloutStatus)
    /// A line for the audit log.
    case audit(String)
}

/// One wave gate judgement for one class.
public struct GateResult: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case passed, failed
        /// Not decidable yet (soak running, too few devices reporting, no data).
        case waiting
    }

    public var wave: Int
    public var hardwareClass: String
    public var evaluatedAtMs: Int64
    public var verdict: Verdict
    public var checks: [GateCheck]
    /// One sentence for humans.
    public var summary: String

    public init(wave: Int, hardwareClass: String, evaluatedAtMs: Int64, verdict: Verdict, checks: [GateCheck], summary: String) {
        self.wave = wave
        self.hardwareClass = hardwareClass
        self.evaluatedAtMs = evaluatedAtMs
        self.verdict = verdict
        self.checks = checks
        self.summary = summary
    }

    public var failedChecks: [GateCheck] { checks.filter { $0.outcome == .failed } }
}
