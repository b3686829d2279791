/// What the coordinator wants one device to run. Published retained on
/// `flotilla/v1/devices/{id}/desired`, always inside a `SignedEnvelope`.
public struct DesiredState: WireMessage, Equatable {
    public static let messageType = "desiredState"

    public var deviceID: String
    /// Per-device, strictly increasing across every desired state the coordinator publishes
    /// for this device: the agent refuses one not above the last it accepted (replay).
    public var sequence: UInt64
    /// Unix time in milliseconds, for humans and logs; ordering uses `sequence` only.
    public var issuedAtMs: Int64
    /// nil: run nothing new (keep what runs).
    public var artifact: ArtifactDescriptor?
    public var trial: TrialPolicy
    /// Present only when `artifact` is older than what the device runs and that is intended.
    public var rollback: RollbackDirective?
    /// The rollout this belongs to, for correlation in events and telemetry.
    public var rolloutID: String?

    public init(
        deviceID: String, sequence: UInt64, issuedAtMs: Int64, artifact: ArtifactDescriptor?, trial: TrialPolicy = TrialPolicy(),
        rollback: RollbackDirective? = nil, rolloutID: String? = nil
    ) {
        self.deviceID = deviceID
        self.sequence = sequence
        self.issuedAtMs = issuedAtMs
        self.artifact = artifact
        self.trial = trial
        self.rollback = rollback
        self.rolloutID = rolloutID
    }
}

/// How long a new model is watched before and after commit.
public struct TrialPolicy: Codable, Sendable, Hashable {
    /// Shadow run on live inputs after the validation bundle passes, before commit (0: none).
    public var shadowSeconds: Int
    /// After commit, sustained regressions within this window roll back (0: no watch).
    public var watchSeconds: Int

    public init(shadowSeconds: Int = 0, watchSeconds: Int = 600) {
        self.shadowSeconds = shadowSeconds
        self.watchSeconds = watchSeconds
    }
}

/// Permission to install an older release than the one running: the release sequence is
/// monotonic, so without this a device refuses a downgrade (a replayed old desired state cannot
/// push an old, perhaps vulnerable, model). It is signed as part of the desired state.
public struct RollbackDirective: Codable, Sendable, Hashable {
    /// The release being left (the device checks it is the one it runs or tries).
    public var fromReleaseSequence: UInt64
    /// The release to go back to; must equal the desired artifact's sequence.
    public var toReleaseSequence: UInt64
    public var reason: String

    public init(fromReleaseSequence: UInt64, toReleaseSequence: UInt64, reason: String) {
        self.fromReleaseSequence = fromReleaseSequence
        self.toReleaseSequence = toReleaseSequence
        self.reason = reason
    }
}
