/// Counts for `rollout status`: per class and wave, how many devices were targeted and where
/// they stand now (from their latest reports).
public struct RolloutProgress: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var hardwareClass: String
        public var wave: Int
        public var targeted: Int
        /// Running the new release, committed.
        public var updated: Int
        /// Rolled it back by themselves or failed it.
        public var failed: Int
        /// Sent back by the coordinator (rollback or cleared desired state).
        public var reverted: Int
        /// Not reported in the latest input (left the target, or unknown to the registry).
        public var missing: Int
        public var pending: Int { max(0, targeted - updated - failed - missing) }
    }

    /// Sorted by class, then wave.
    public var rows: [Row]
}

extension RolloutEngine {
    /// Progress of every class and wave, judged from `devices` as the caller last saw them.
    public func progress(devices: [RolloutDevice]) -> RolloutProgress {
        let byID = Dictionary(Self.uniqueDevices(devices).map { ($0.deviceID, $0) }, uniquingKeysWith: { _, last in last })
        var rows: [String: RolloutProgress.Row] = [:]
        for (id, a) in state.assignments.sorted(by: { $0.key < $1.key }) {
            let key = "\(a.hardwareClass)\u{0}\(a.wave)"
            var row =
                rows[key]
                ?? RolloutProgress.Row(
                    hardwareClass: a.hardwareClass, wave: a.wave, targeted: 0, updated: 0, failed: 0, reverted: 0, missing: 0)
            row.targeted += 1
            if a.revertIssuedAtMs != nil { row.reverted += 1 }
            if let d = byID[id] {
                var single = InstallTally()
                Self.classify(d, digest: spec.digest(forClass: a.hardwareClass), release: spec.releaseSequence, into: &single)
                row.updated += single.committed
                row.failed += single.failed
            } else {
                row.missing += 1
            }
            rows[key] = row
        }
        return RolloutProgress(
            rows: rows.values.sorted { ($0.hardwareClass, $0.wave) < ($1.hardwareClass, $1.wave) })
    }
}
