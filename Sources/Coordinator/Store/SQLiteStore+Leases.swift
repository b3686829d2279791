import GRDB

extension SQLiteStore {
    /// One upsert whose update only happens when the lease is ours or expired: atomic without
    /// a read-then-write window, and the same statement runs on PostgreSQL.
    public func tryAcquireLease(name: String, holder: String, ttlMs: Int64, nowMs: Int64) throws(StoreError) -> Bool {
        try Self.nonEmpty(name, "lease name")
        try Self.nonEmpty(holder, "lease holder")
        guard ttlMs > 0 else { throw .invalid(field: "lease ttlMs", detail: "\(ttlMs) must be positive") }
        let (expires, overflow) = nowMs.addingReportingOverflow(ttlMs)
        guard !overflow else { throw .invalid(field: "lease ttlMs", detail: "now \(nowMs) + \(ttlMs) overflows") }
        return try write("acquire lease '\(name)' for '\(holder)'") { db in
            try db.execute(
                sql: """
                    INSERT INTO leases (name, holder, expiresAtMs) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expiresAtMs = excluded.expiresAtMs
                    WHERE leases.holder = excluded.holder OR leases.expiresAtMs <= ?
                    """,
                arguments: [name, holder, expires, nowMs])
            return db.changesCount > 0
        }
    }

    public func releaseLease(name: String, holder: String) throws(StoreError) -> Bool {
        try write("release lease '\(name)' held by '\(holder)'") { db in
            try db.execute(sql: "DELETE FROM leases WHERE name = ? AND holder = ?", arguments: [name, holder])
            return db.changesCount > 0
        }
    }

    public func lease(name: String) throws(StoreError) -> LeaseRecord? {
        try read("read lease '\(name)'") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM leases WHERE name = ?", arguments: [name]).map { row in
                LeaseRecord(
                    name: name, holder: try Self.column(row, "holder", kind: "lease", key: name),
                    expiresAtMs: try Self.column(row, "expiresAtMs", kind: "lease", key: name))
            }
        }
    }
}
