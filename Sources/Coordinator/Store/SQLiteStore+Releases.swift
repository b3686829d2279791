import GRDB

extension SQLiteStore {
    public func createRelease(_ release: NewRelease) throws(StoreError) -> ReleaseRecord {
        try Self.nonEmpty(release.name, "model name")
        try Self.nonEmpty(release.version, "model version")
        try Self.checkJSON(release.optionsJSON, "release options of \(release.name) \(release.version)")
        return try write("create release \(release.name) \(release.version)") { db in
            let exists =
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM releases WHERE name = ? AND version = ?", arguments: [release.name, release.version]) ?? false
            guard !exists else {
                throw StoreError.conflict(
                    kind: "release", key: "\(release.name) \(release.version)",
                    detail: "exists already; pick a new version (a version's artifacts are immutable)")
            }
            // The counter outlives its releases, so a sequence is never handed out twice, even
            // when the release that got it failed or was deleted.
            let last =
                try Int64.fetchOne(db, sql: "SELECT lastSequence FROM model_sequences WHERE name = ?", arguments: [release.name]) ?? 0
            guard last < Int64.max else {
                throw StoreError.conflict(kind: "model", key: release.name, detail: "release sequences are exhausted")
            }
            let next = last + 1
            try db.execute(
                sql: """
                    INSERT INTO model_sequences (name, lastSequence) VALUES (?, ?)
                    ON CONFLICT(name) DO UPDATE SET lastSequence = excluded.lastSequence
                    """,
                arguments: [release.name, next])
            let record = ReleaseRecord(
                name: release.name, version: release.version, releaseSequence: UInt64(next), createdBy: release.createdBy,
                createdAtMs: release.createdAtMs, sourceSHA256: release.sourceSHA256, optionsJSON: release.optionsJSON, status: .building)
            try db.execute(
                sql: """
                    INSERT INTO releases (name, version, releaseSequence, createdBy, createdAtMs, sourceSHA256, options, status, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """,
                arguments: [
                    record.name, record.version, next, record.createdBy, record.createdAtMs, record.sourceSHA256, record.optionsJSON,
                    record.status.rawValue,
                ])
            return record
        }
    }

    public func updateReleaseStatus(name: String, version: String, status: ReleaseRecord.Status, error: String?) throws(StoreError) {
        try write("update the status of release \(name) \(version)") { db in
            try db.execute(
                sql: "UPDATE releases SET status = ?, error = ? WHERE name = ? AND version = ?",
                arguments: [status.rawValue, error, name, version])
            guard db.changesCount > 0 else { throw StoreError.notFound(kind: "release", key: "\(name) \(version)") }
        }
    }

    public func release(name: String, version: String) throws(StoreError) -> ReleaseRecord? {
        try read("read release \(name) \(version)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM releases WHERE name = ? AND version = ?", arguments: [name, version])
                .map(Self.releaseRecord)
        }
    }

    public func release(name: String, releaseSequence: UInt64) throws(StoreError) -> ReleaseRecord? {
        guard let sequence = Int64(exactly: releaseSequence) else { return nil }
        return try read("read release \(name) #\(releaseSequence)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM releases WHERE name = ? AND releaseSequence = ?", arguments: [name, sequence])
                .map(Self.releaseRecord)
        }
    }

    public func releases(name: String?) throws(StoreError) -> [ReleaseRecord] {
        try read("list releases") { db in
            if let name {
                return try Row.fetchAll(db, sql: "SELECT * FROM releases WHERE name = ? ORDER BY releaseSequence DESC", arguments: [name])
                    .map(Self.releaseRecord)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM releases ORDER BY name, releaseSequence DESC").map(Self.releaseRecord)
        }
    }

    public func latestReadyRelease(name: String, before releaseSequence: UInt64) throws(StoreError) -> ReleaseRecord? {
        let bound = Int64(exactly: releaseSequence) ?? Int64.max
        return try read("find the baseline of \(name) before #\(releaseSequence)") { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM releases WHERE name = ? AND status = 'ready' AND releaseSequence < ?
                    ORDER BY releaseSequence DESC LIMIT 1
                    """,
                arguments: [name, bound]
            ).map(Self.releaseRecord)
        }
    }

    static func releaseRecord(_ row: Row) throws(StoreError) -> ReleaseRecord {
        let name: String = try column(row, "name", kind: "release", key: "?")
        let version: String = try column(row, "version", kind: "release", key: name)
        let key = "\(name) \(version)"
        func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T { try column(row, c, kind: "release", key: key) }
        let statusText: String = try col("status")
        guard let status = ReleaseRecord.Status(rawValue: statusText) else {
            throw .corruptRecord(kind: "release", key: key, detail: "unknown status '\(statusText)'")
        }
        return ReleaseRecord(
            name: name, version: version, releaseSequence: try col("releaseSequence"), createdBy: try col("createdBy"),
            createdAtMs: try col("createdAtMs"), sourceSHA256: try col("sourceSHA256"), optionsJSON: try col("options"),
            status: status, error: try col("error"))
    }
}
