public import FleetProtocol

/// Everything the coordinator keeps: nothing lives only in memory, so a coordinator restarted
/// mid-rollout carries on from here. The interface is narrow and synchronous on purpose: each
/// method is one transaction, with every rule that needs atomicity (sequence allocation,
/// stale-report rejection, optimistic revisions, leases, telemetry dedup) inside the store, so
/// a PostgreSQL implementation can serve several coordinators behind the same protocol
/// (docs/coordinator-store.md).
///
/// Calls block the calling thread for the transaction (typically well under a millisecond;
/// at most the busy timeout when another process holds the write lock).
public protocol CoordinatorStore: Sendable {
    // MARK: Devices

    /// Stores what the device reported. Returns false (and changes nothing) when the stored
    /// report's sequence is not below `report.sequence`: a late or replayed report never
    /// overwrites a newer one. Creates the device on its first report. Labels are untouched.
    func applyStateReport(_ report: DeviceStateReport, receivedAtMs: Int64) throws(StoreError) -> Bool
    /// Stores liveness unless the stored status supersedes it (`OnlineStatus.supersedes`): a
    /// late last will of an old connection does not mark a reconnected device offline.
    func applyOnlineStatus(_ status: OnlineStatus, receivedAtMs: Int64) throws(StoreError) -> Bool
    /// Moves `lastSeenMs` forward (never back). Returns false for an unknown device.
    func touchDevice(_ deviceID: String, seenAtMs: Int64) throws(StoreError) -> Bool
    /// Adds or replaces operator labels (keys and values in Kubernetes label syntax; `id` and
    /// `class` are reserved pseudo-labels).
    func setLabels(_ labels: [String: String], deviceID: String) throws(StoreError)
    func removeLabels(_ keys: [String], deviceID: String) throws(StoreError)
    func device(_ deviceID: String) throws(StoreError) -> DeviceRecord?
    /// Sorted by id.
    func devices() throws(StoreError) -> [DeviceRecord]
    func devices(matching selector: LabelSelector) throws(StoreError) -> [DeviceRecord]

    // MARK: Releases and variants

    /// Registers a release in `building` status with the next sequence of its model name.
    /// Throws `.conflict` when (name, version) exists.
    func createRelease(_ release: NewRelease) throws(StoreError) -> ReleaseRecord
    func updateReleaseStatus(name: String, version: String, status: ReleaseRecord.Status, error: String?) throws(StoreError)
    func release(name: String, version: String) throws(StoreError) -> ReleaseRecord?
    func release(name: String, releaseSequence: UInt64) throws(StoreError) -> ReleaseRecord?
    /// Newest sequence first; all models when `name` is nil.
    func releases(name: String?) throws(StoreError) -> [ReleaseRecord]
    /// The newest `ready` release of `name` with a sequence below `releaseSequence`: the
    /// baseline a rollout compares with and rolls back to.
    func latestReadyRelease(name: String, before releaseSequence: UInt64) throws(StoreError) -> ReleaseRecord?
    /// Inserts or replaces the variant of (name, version, class); the release must exist.
    func putVariant(_ variant: VariantRecord) throws(StoreError)
    /// Sorted by hardware class.
    func variants(name: String, version: String) throws(StoreError) -> [VariantRecord]
    func variant(name: String, version: String, hardwareClass: String) throws(StoreError) -> VariantRecord?
    func variant(artifactDigest: String) throws(StoreError) -> VariantRecord?

    // MARK: Rollouts

    /// Throws `.conflict` when the id exists. Stored with revision 1 whatever `rollout.revision` says.
    func insertRollout(_ rollout: RolloutRecord) throws(StoreError)
    /// Replaces spec, state, status and updatedAtMs if the stored revision is still
    /// `expectedRevision`, and makes it `expectedRevision + 1`. Returns false on a conflict
    /// (another writer got there first: re-read and retry). Throws `.notFound` for an unknown id.
    func updateRollout(_ rollout: RolloutRecord, expectedRevision: Int64) throws(StoreError) -> Bool
    func rollout(id: String) throws(StoreError) -> RolloutRecord?
    /// Newest first.
    func rollouts(limit: Int) throws(StoreError) -> [RolloutRecord]
    /// Rollouts whose status is one of `statuses`, oldest first.
    func activeRollouts(statuses: Set<String>) throws(StoreError) -> [RolloutRecord]

    // MARK: Desired states

    /// The next desired-state sequence for the device: strictly above every one allocated
    /// before (across restarts) and above the last one the device said it accepted.
    func allocateDesiredSequence(deviceID: String) throws(StoreError) -> UInt64
    /// Stores the published desired state. Returns false when a later one is stored already;
    /// throws `.invalid` for a sequence that was never allocated.
    func saveDesiredState(_ state: DesiredStateRecord) throws(StoreError) -> Bool
    func desiredState(deviceID: String) throws(StoreError) -> DesiredStateRecord?
    /// Sorted by device id.
    func desiredStates(rolloutID: String) throws(StoreError) -> [DesiredStateRecord]

    // MARK: Telemetry

    /// Merges one summary into the bucket of (its artifact, `hardwareClass`, the
    /// `bucketWidthMs`-wide window holding its end) in one transaction. A device's summary is
    /// merged into a bucket only if its sequence is above the last one that device merged there.
    func mergeTelemetry(_ summary: TelemetrySummary, hardwareClass: String, bucketWidthMs: Int64) throws(StoreError)
        -> TelemetryMergeOutcome
    /// Merges `items` in order in one transaction, with the outcomes and buckets merging them
    /// one by one would give (per-device dedup included, duplicates inside the batch too). An
    /// invalid item is refused alone (its result is the error); every valid item's device has
    /// its `lastSeenMs` raised to the item's `receivedAtMs` (`touchDevice`). Throws only when
    /// the whole transaction fails, and then nothing of the batch is stored.
    func mergeTelemetryBatch(_ items: [TelemetryMergeItem], bucketWidthMs: Int64) throws(StoreError) -> [TelemetryMergeResult]
    /// Buckets that end after `sinceMs`, oldest first.
    func telemetryBuckets(artifactDigest: String, hardwareClass: String, sinceMs: Int64) throws(StoreError) -> [TelemetryAggregate]
    /// The merge of those buckets (nil when there is none).
    func telemetryTotals(artifactDigest: String, hardwareClass: String, sinceMs: Int64) throws(StoreError) -> TelemetryAggregate?
    /// Deletes buckets that ended at or before `olderThanMs` and refuses later merges into them.
    /// Returns how many buckets went.
    func deleteTelemetry(olderThanMs: Int64) throws(StoreError) -> Int

    // MARK: Events and audit

    /// Returns false for a duplicate (deviceID, sequence): outbox replays are stored once.
    func insertEvent(_ event: DeviceEvent) throws(StoreError) -> Bool
    /// Newest first; filters are ANDed.
    func events(deviceID: String?, sinceMs: Int64?, limit: Int) throws(StoreError) -> [DeviceEvent]
    /// Returns the entry with its assigned id.
    func appendAudit(_ entry: AuditEntry) throws(StoreError) -> AuditEntry
    /// Newest first.
    func auditLog(limit: Int, sinceMs: Int64?) throws(StoreError) -> [AuditEntry]

    // MARK: Leases

    /// Takes the lease if it is free, expired (`expiresAtMs <= nowMs`) or already `holder`'s,
    /// and (re)sets its expiry to `nowMs + ttlMs`. Returns false when another holder has it.
    func tryAcquireLease(name: String, holder: String, ttlMs: Int64, nowMs: Int64) throws(StoreError) -> Bool
    /// Gives the lease up if `holder` has it; returns whether it did.
    func releaseLease(name: String, holder: String) throws(StoreError) -> Bool
    func lease(name: String) throws(StoreError) -> LeaseRecord?
}
