public import FleetProtocol
import GRDB

/// Telemetry buckets: one row per (artifact, class, bucket start) holding the merged numbers,
/// and one row per device that reported into it, with the last summary sequence merged there.
/// That row is both the set of reporting devices and the replay guard: a redelivered or
/// replayed summary lands in the same bucket (the bucket follows from the summary's own
/// window) and is refused there.
extension SQLiteStore {
    /// The latest time a summary may carry (year 9999): keeps bucket arithmetic in range.
    static let maxTelemetryTimeMs: Int64 = 253_402_300_799_999

    public func mergeTelemetry(_ summary: TelemetrySummary, hardwareClass: String, bucketWidthMs: Int64) throws(StoreError)
        -> TelemetryMergeOutcome
    {
        guard let target = try Self.telemetryTarget(summary, hardwareClass: hardwareClass, bucketWidthMs: bucketWidthMs) else {
            return .noModel
        }
        let (digest, bucketStart, sequence) = (target.artifactDigest, target.bucketStartMs, target.sequence)
        let key: StatementArguments = [digest, hardwareClass, bucketStart]
        let where_ = "artifactDigest = ? AND hardwareClass = ? AND bucketStartMs = ?"
        let label = "\(digest) \(hardwareClass) @\(bucketStart)"

        return try write("merge telemetry of device '\(summary.deviceID)' into \(label)") { db in
            let deletedBefore = try Int64.fetchOne(db, sql: "SELECT deletedBeforeMs FROM telemetry_retention WHERE id = 1") ?? Int64.min
            if bucketStart + bucketWidthMs <= deletedBefore { return .expired }
            let last = try Int64.fetchOne(
                db, sql: "SELECT lastSequence FROM telemetry_bucket_devices WHERE \(where_) AND deviceID = ?",
                arguments: key + [summary.deviceID])
            if let last, last >= sequence { return .duplicate }

            var aggregate: TelemetryAggregate
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM telemetry_buckets WHERE \(where_)", arguments: key) {
                aggregate = try Self.telemetryAggregate(row, deviceIDs: [])
            } else {
                aggregate = TelemetryAggregate(
                    artifactDigest: digest, hardwareClass: hardwareClass, startMs: bucketStart, endMs: bucketStart + bucketWidthMs)
            }
            aggregate.add(summary)
            try Self.saveBucket(aggregate, db)
            try Self.saveBucketDevice(target, deviceID: summary.deviceID, db)
            return .merged
        }
    }

    public func telemetryBuckets(artifactDigest: String, hardwareClass: String, sinceMs: Int64) throws(StoreError) -> [TelemetryAggregate] {
        let arguments: StatementArguments = [artifactDigest, hardwareClass, sinceMs]
        let range = "artifactDigest = ? AND hardwareClass = ? AND bucketStartMs + bucketWidthMs > ?"
        return try read("read telemetry of \(artifactDigest) on \(hardwareClass)") { db in
            var devices: [Int64: [String]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT d.bucketStartMs AS start, d.deviceID AS device FROM telemetry_bucket_devices d
                    JOIN telemetry_buckets USING (artifactDigest, hardwareClass, bucketStartMs)
                    WHERE \(range) ORDER BY d.deviceID
                    """,
                arguments: arguments)
            {
                let start: Int64 = try Self.column(row, "start", kind: "telemetry device", key: artifactDigest)
                devices[start, default: []].append(try Self.column(row, "device", kind: "telemetry device", key: artifactDigest))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM telemetry_buckets WHERE \(range) ORDER BY bucketStartMs", arguments: arguments)
                .map { row in
                    let start: Int64 = try Self.column(row, "bucketStartMs", kind: "telemetry bucket", key: artifactDigest)
                    return try Self.telemetryAggregate(row, deviceIDs: devices[start] ?? [])
                }
        }
    }

    public func telemetryTotals(artifactDigest: String, hardwareClass: String, sinceMs: Int64) throws(StoreError) -> TelemetryAggregate? {
        let buckets = try telemetryBuckets(artifactDigest: artifactDigest, hardwareClass: hardwareClass, sinceMs: sinceMs)
        guard var total = buckets.first else { return nil }
        for bucket in buckets.dropFirst() { total.merge(bucket) }
        return total
    }

    public func deleteTelemetry(olderThanMs: Int64) throws(StoreError) -> Int {
        try write("delete telemetry older than \(olderThanMs)") { db in
            try db.execute(sql: "DELETE FROM telemetry_buckets WHERE bucketStartMs + bucketWidthMs <= ?", arguments: [olderThanMs])
            let deleted = db.changesCount
            try db.execute(
                sql: """
                    INSERT INTO telemetry_retention (id, deletedBeforeMs) VALUES (1, ?)
                    ON CONFLICT(id) DO UPDATE SET deletedBeforeMs = MAX(deletedBeforeMs, excluded.deletedBeforeMs)
                    """,
                arguments: [olderThanMs])
            return deleted
        }
    }

    /// Where a summary goes: its artifact, bucket and sequence, after checking every field the
    /// merge relies on; nil when it names no running model.
    static func telemetryTarget(_ summary: TelemetrySummary, hardwareClass: String, bucketWidthMs: Int64) throws(StoreError)
        -> TelemetryTarget?
    {
        try Self.nonEmpty(summary.deviceID, "telemetry deviceID")
        try Self.nonEmpty(hardwareClass, "telemetry hardwareClass")
        guard let digest = summary.artifactDigest else { return nil }
        try Self.nonEmpty(digest, "telemetry artifactDigest")
        guard bucketWidthMs > 0 else { throw .invalid(field: "bucketWidthMs", detail: "\(bucketWidthMs) must be positive") }
        guard summary.windowStartMs >= 0, summary.windowStartMs <= summary.windowEndMs, summary.windowEndMs <= Self.maxTelemetryTimeMs
        else {
            throw .invalid(
                field: "telemetry window of device '\(summary.deviceID)'",
                detail: "[\(summary.windowStartMs), \(summary.windowEndMs)) must be ordered Unix milliseconds")
        }
        for (name, value) in [("validationAccuracy", summary.validationAccuracy), ("validationAgreement", summary.validationAgreement)] {
            if let value, !(0...1).contains(value) {
                throw .invalid(field: "telemetry \(name) of device '\(summary.deviceID)'", detail: "\(value) is not a fraction in 0...1")
            }
        }
        let sequence = try Self.int64(summary.sequence, "telemetry sequence")
        // The window is [start, end): its last millisecond decides the bucket.
        let instant = summary.windowEndMs > summary.windowStartMs ? summary.windowEndMs - 1 : summary.windowStartMs
        return TelemetryTarget(
            artifactDigest: digest, hardwareClass: hardwareClass, bucketStartMs: instant / bucketWidthMs * bucketWidthMs, sequence: sequence
        )
    }

    /// Counters saturate at Int64.max (SQLite's largest integer) rather than wrap.
    static func clamped(_ value: UInt64) -> Int64 { Int64(exactly: value) ?? .max }

    static func telemetryAggregate(_ row: Row, deviceIDs: [String]) throws(StoreError) -> TelemetryAggregate {
        let digest: String = try column(row, "artifactDigest", kind: "telemetry bucket", key: "?")
        let hardwareClass: String = try column(row, "hardwareClass", kind: "telemetry bucket", key: digest)
        let start: Int64 = try column(row, "bucketStartMs", kind: "telemetry bucket", key: digest)
        let key = "\(digest) \(hardwareClass) @\(start)"
        func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T {
            try column(row, c, kind: "telemetry bucket", key: key)
        }
        let width: Int64 = try col("bucketWidthMs")
        let histogram: String = try col("histogram")
        return TelemetryAggregate(
            artifactDigest: digest, hardwareClass: hardwareClass, startMs: start, endMs: start + width,
            latencyUs: try decodeJSON(LatencyHistogram.self, histogram, kind: "telemetry histogram", key: key),
            inferences: try col("inferences"), errors: try col("errors"), accuracySum: try col("accuracySum"),
            accuracyCount: try col("accuracyCount"), agreementSum: try col("agreementSum"), agreementCount: try col("agreementCount"),
            summaries: try col("summaries"), deviceIDs: deviceIDs, rssMaxBytes: try col("rssMaxBytes"))
    }
}
