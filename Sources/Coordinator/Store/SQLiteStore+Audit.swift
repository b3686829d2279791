import GRDB

extension SQLiteStore {
    public func appendAudit(_ entry: AuditEntry) throws(StoreError) -> AuditEntry {
        try Self.nonEmpty(entry.actor, "audit actor")
        try Self.nonEmpty(entry.action, "audit action")
        try Self.checkJSON(entry.detailJSON, "audit detail")
        return try write("append to the audit log") { db in
            try db.execute(
                sql: "INSERT INTO audit_log (atMs, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                arguments: [entry.atMs, entry.actor, entry.action, entry.target, entry.detailJSON])
            var stored = entry
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func auditLog(limit: Int, sinceMs: Int64?) throws(StoreError) -> [AuditEntry] {
        try Self.checkLimit(limit)
        return try read("read the audit log") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_log WHERE atMs >= ? ORDER BY atMs DESC, id DESC LIMIT ?",
                arguments: [sinceMs ?? Int64.min, limit]
            ).map { row in
                let id: Int64 = try Self.column(row, "id", kind: "audit entry", key: "?")
                func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T {
                    try Self.column(row, c, kind: "audit entry", key: "\(id)")
                }
                return AuditEntry(
                    id: id, atMs: try col("atMs"), actor: try col("actor"), action: try col("action"), target: try col("target"),
                    detailJSON: try col("detail"))
            }
        }
    }
}
