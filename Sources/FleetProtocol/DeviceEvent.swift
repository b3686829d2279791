/// Something that happened on a device, published on `.../events` at once (QoS 1) and kept in
/// the agent's on-disk outbox until the broker acknowledged it. `sequence` is per device and
/// persisted, so the coordinator drops duplicates from outbox replays.
public struct DeviceEvent: WireMessage, Equatable {
    public static let messageType = "deviceEvent"

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case desiredStateAccepted, desiredStateRefused
        case downloadStarted, downloadFinished, downloadFailed, downloadCanceled
        /// The agent restarted mid-download and picked it up from its persisted progress.
        case downloadResumed
        case installed, trialStarted, validationPassed, committed, rolledBack, updateFailed
    }

    public var deviceID: String
    public var sequence: UInt64
    public var atMs: Int64
    public var kind: Kind
    public var releaseSequence: UInt64?
    public var artifactDigest: String?
    /// Set for refusals, failures and rollbacks.
    public var reason: FailureReason?

    public init(
        deviceID: String, sequence: UInt64, atMs: Int64, kind: Kind, releaseSequence: UInt64? = nil, artifactDigest: String? = nil,
        reason: FailureReason? = nil
    ) {
        self.deviceID = deviceID
        self.sequence = sequence
        self.atMs = atMs
        self.kind = kind
        self.releaseSequence = releaseSequence
        self.artifactDigest = artifactDigest
        self.reason = reason
    }
}
