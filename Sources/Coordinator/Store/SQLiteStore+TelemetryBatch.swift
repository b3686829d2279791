import GRDB

/// Many summaries in one transaction. The coordinator receives telemetry from every device of
/// the fleet; one transaction per summary (an fsync'd WAL commit each) caps ingest at a few
/// hundred per second, while the work per summary is a histogram merge.
extension SQLiteStore {
    public func mergeTelemetryBatch(_ items: [TelemetryMergeItem], bucketWidthMs: Int64) throws(StoreError) -> [TelemetryMergeResult] {
        guard bucketWidthMs > 0 else { throw .invalid(field: "bucketWidthMs", detail: "\(bucketWidthMs) must be positive") }
        guard !items.isEmpty else { return [] }
        return try write("merge a batch of \(items.count) telemetry summaries") { db in
            let deletedBefore = try Int64.fetchOne(db, sql: "SELECT deletedBeforeMs FROM telemetry_retention WHERE id = 1") ?? Int64.min
            // Buckets and replay guards are read at most once and written once at the end; in
            // between every item sees what the items before it did, so outcomes and sums (in
            // the same order) are those of merging one by one.
            var buckets: [TelemetryBucketKey: TelemetryAggregate] = [:]
            var lastSequences: [TelemetryBucketKey: [String: Int64]] = [:]
            var changedGuards: [TelemetryBucketKey: [String: Int64]] = [:]
            var seen: [String: Int64] = [:]
            var results: [TelemetryMergeResult] = []
            results.reserveCapacity(items.count)
            for item in items {
                let summary = item.summary
                let target: TelemetryTarget?
                do throws(StoreError) {
                    target = try Self.telemetryTarget(summary, hardwareClass: item.hardwareClass, bucketWidthMs: bucketWidthMs)
                } catch {
                    results.append(.failure(error))
                    continue
                }
                seen[summary.deviceID] = max(seen[summary.deviceID] ?? .min, item.receivedAtMs)
                guard let target else {
                    results.append(.success(.noModel))
                    continue
                }
                if target.bucketStartMs + bucketWidthMs <= deletedBefore {
                    results.append(.success(.expired))
                    continue
                }
                let key = target.bucket
                let last: Int64?
                if let cached = lastSequences[key]?[summary.deviceID] {
                    last = cached
                } else {
                    last = try Int64.fetchOne(
                        db,
                        sql: """
                            SELECT lastSequence FROM telemetry_bucket_devices
                            WHERE artifactDigest = ? AND hardwareClass = ? AND bucketStartMs = ? AND deviceID = ?
                            """,
                        arguments: [key.artifactDigest, key.hardwareClass, key.bucketStartMs, summary.deviceID])
                }
                if let last, last >= target.sequence {
                    lastSequences[key, default: [:]][summary.deviceID] = last
                    results.append(.success(.duplicate))
                    continue
                }
                var aggregate: TelemetryAggregate
                if let cached = buckets[key] {
                    aggregate = cached
                } else if let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM telemetry_buckets WHERE artifactDigest = ? AND hardwareClass = ? AND bucketStartMs = ?",
                    arguments: [key.artifactDigest, key.hardwareClass, key.bucketStartMs])
                {
                    aggregate = try Self.telemetryAggregate(row, deviceIDs: [])
                } else {
                    aggregate = TelemetryAggregate(
                        artifactDigest: key.artifactDigest, hardwareClass: key.hardwareClass, startMs: key.bucketStartMs,
                        endMs: key.bucketStartMs + bucketWidthMs)
                }
                aggregate.add(summary)
                buckets[key] = aggregate
                lastSequences[key, default: [:]][summary.deviceID] = target.sequence
                changedGuards[key, default: [:]][summary.deviceID] = target.sequence
                results.append(.success(.merged))
            }
            for aggregate in buckets.values { try Self.saveBucket(aggregate, db) }
            for (key, devices) in changedGuards {
                for (device, sequence) in devices {
                    try Self.saveBucketDevice(
                        TelemetryTarget(
                            artifactDigest: key.artifactDigest, hardwareClass: key.hardwareClass, bucketStartMs: key.bucketStartMs,
                            sequence: sequence), deviceID: device, db)
                }
            }
            for (device, atMs) in seen {
                try db.execute(sql: "UPDATE devices SET lastSeenMs = MAX(lastSeenMs, ?) WHERE id = ?", arguments: [atMs, device])
            }
            return results
        }
    }

    /// Writes a bucket's numbers (insert or update).
    static func saveBucket(_ aggregate: TelemetryAggregate, _ db: Database) throws {
        let histogram = try Self.encodeJSON(aggregate.latencyUs, "telemetry histogram")
        // An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first, and the
        // foreign-key cascade would take the bucket's device rows with it.
        try db.execute(
            sql: """
                INSERT INTO telemetry_buckets (artifactDigest, hardwareClass, bucketStartMs, bucketWidthMs, histogram,
                    inferences, errors, accuracySum, accuracyCount, agreementSum, agreementCount, summaries, rssMaxBytes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(artifactDigest, hardwareClass, bucketStartMs) DO UPDATE SET
                    histogram = excluded.histogram, inferences = excluded.inferences, errors = excluded.errors,
                    accuracySum = excluded.accuracySum, accuracyCount = excluded.accuracyCount,
                    agreementSum = excluded.agreementSum, agreementCount = excluded.agreementCount,
                    summaries = excluded.summaries, rssMaxBytes = excluded.rssMaxBytes
                """,
            arguments: [
                aggregate.artifactDigest, aggregate.hardwareClass, aggregate.startMs, aggregate.endMs - aggregate.startMs, histogram,
                Self.clamped(aggregate.inferences), Self.clamped(aggregate.errors), aggregate.accuracySum,
                Self.clamped(aggregate.accuracyCount), aggregate.agreementSum, Self.clamped(aggregate.agreementCount),
                Self.clamped(aggregate.summaries), Self.clamped(aggregate.rssMaxBytes),
            ])
    }

    /// Records the last sequence a device merged into a bucket (the replay guard).
    static func saveBucketDevice(_ target: TelemetryTarget, deviceID: String, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO telemetry_bucket_devices (artifactDigest, hardwareClass, bucketStartMs, deviceID, lastSequence)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(artifactDigest, hardwareClass, bucketStartMs, deviceID) DO UPDATE SET lastSequence = excluded.lastSequence
                """,
            arguments: [target.artifactDigest, target.hardwareClass, target.bucketStartMs, deviceID, target.sequence])
    }
}
