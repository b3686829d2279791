public import FleetProtocol

/// One summary for `CoordinatorStore.mergeTelemetryBatch`: what the device sent, its hardware
/// class, and when the coordinator received it.
public struct TelemetryMergeItem: Sendable, Equatable {
    public var summary: TelemetrySummary
    public var hardwareClass: String
    /// The device's `lastSeenMs` is raised to this in the batch's transaction (as
    /// `touchDevice` would) when the summary is valid, merged or not.
    public var receivedAtMs: Int64

    public init(summary: TelemetrySummary, hardwareClass: String, receivedAtMs: Int64) {
        self.summary = summary
        self.hardwareClass = hardwareClass
        self.receivedAtMs = receivedAtMs
    }
}

/// What a batch did with one item: the outcome one-by-one merging would have had, or the
/// reason the item was refused (the others are merged regardless).
public typealias TelemetryMergeResult = Result<TelemetryMergeOutcome, StoreError>

/// The bucket and replay-guard key of a checked summary.
struct TelemetryTarget: Hashable, Sendable {
    var artifactDigest: String
    var hardwareClass: String
    var bucketStartMs: Int64
    var sequence: Int64

    /// The bucket alone (summaries of every device and sequence share it).
    var bucket: TelemetryBucketKey {
        TelemetryBucketKey(artifactDigest: artifactDigest, hardwareClass: hardwareClass, bucketStartMs: bucketStartMs)
    }
}

struct TelemetryBucketKey: Hashable, Sendable {
    var artifactDigest: String
    var hardwareClass: String
    var bucketStartMs: Int64
}
