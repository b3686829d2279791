import GRDB

extension SQLiteStore {
    public func insertRollout(_ rollout: RolloutRecord) throws(StoreError) {
        try Self.nonEmpty(rollout.id, "rollout id")
        try Self.checkRollout(rollout)
        let sequence = try Self.int64(rollout.releaseSequence, "releaseSequence of rollout \(rollout.id)")
        try write("insert rollout \(rollout.id)") { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM rollouts WHERE id = ?", arguments: [rollout.id]) == nil else {
                throw StoreError.conflict(kind: "rollout", key: rollout.id, detail: "exists already")
            }
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM releases WHERE name = ? AND version = ?", arguments: [rollout.modelName, rollout.modelVersion])
                    != nil
            else { throw StoreError.notFound(kind: "release", key: "\(rollout.modelName) \(rollout.modelVersion)") }
            try db.execute(
                sql: """
                    INSERT INTO rollouts (id, modelName, modelVersion, releaseSequence, spec, state, status, createdBy, createdAtMs,
                        updatedAtMs, revision)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                arguments: [
                    rollout.id, rollout.modelName, rollout.modelVersion, sequence, rollout.specJSON, rollout.stateJSON, rollout.status,
                    rollout.createdBy, rollout.createdAtMs, rollout.updatedAtMs,
                ])
        }
    }

    /// Compare-and-set on `revision` in one statement, the form that stays atomic on any SQL
    /// database with several writers (no read-then-write window).
    public func updateRollout(_ rollout: RolloutRecord, expectedRevision: Int64) throws(StoreError) -> Bool {
        try Self.checkRollout(rollout)
        return try write("update rollout \(rollout.id)") { db in
            try db.execute(
                sql: """
                    UPDATE rollouts SET spec = ?, state = ?, status = ?, updatedAtMs = ?, revision = revision + 1
                    WHERE id = ? AND revision = ?
                    """,
                arguments: [rollout.specJSON, rollout.stateJSON, rollout.status, rollout.updatedAtMs, rollout.id, expectedRevision])
            if db.changesCount > 0 { return true }
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM rollouts WHERE id = ?", arguments: [rollout.id]) != nil else {
                throw StoreError.notFound(kind: "rollout", key: rollout.id)
            }
            return false
        }
    }

    public func rollout(id: String) throws(StoreError) -> RolloutRecord? {
        try read("read rollout \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]).map(Self.rolloutRecord)
        }
    }

    public func rollouts(limit: Int) throws(StoreError) -> [RolloutRecord] {
        try Self.checkLimit(limit)
        return try read("list rollouts") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rollouts ORDER BY createdAtMs DESC, id DESC LIMIT ?", arguments: [limit])
                .map(Self.rolloutRecord)
        }
    }

    public func activeRollouts(statuses: Set<String>) throws(StoreError) -> [RolloutRecord] {
        guard !statuses.isEmpty else { return [] }
        let marks = statuses.map { _ in "?" }.joined(separator: ", ")
        return try read("list active rollouts") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM rollouts WHERE status IN (\(marks)) ORDER BY createdAtMs, id",
                arguments: StatementArguments(statuses.sorted())
            ).map(Self.rolloutRecord)
        }
    }

    static func checkRollout(_ rollout: RolloutRecord) throws(StoreError) {
        try checkJSON(rollout.specJSON, "spec of rollout \(rollout.id)")
        try checkJSON(rollout.stateJSON, "state of rollout \(rollout.id)")
        try nonEmpty(rollout.status, "status of rollout \(rollout.id)")
    }

    static func rolloutRecord(_ row: Row) throws(StoreError) -> RolloutRecord {
        let id: String = try column(row, "id", kind: "rollout", key: "?")
        func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T { try column(row, c, kind: "rollout", key: id) }
        return RolloutRecord(
            id: id, modelName: try col("modelName"), modelVersion: try col("modelVersion"), releaseSequence: try col("releaseSequence"),
            specJSON: try col("spec"), stateJSON: try col("state"), status: try col("status"), createdBy: try col("createdBy"),
            createdAtMs: try col("createdAtMs"), updatedAtMs: try col("updatedAtMs"), revision: try col("revision"))
    }
}
