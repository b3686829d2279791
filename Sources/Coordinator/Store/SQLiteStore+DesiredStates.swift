import Foundation
import GRDB

extension SQLiteStore {
    /// Above every sequence allocated before and above the one the device last accepted: a
    /// coordinator whose database was restored from an old backup still issues sequences the
    /// agent takes (it refuses anything not above what it accepted).
    public func allocateDesiredSequence(deviceID: String) throws(StoreError) -> UInt64 {
        try Self.nonEmpty(deviceID, "deviceID")
        return try write("allocate a desired-state sequence for device '\(deviceID)'") { db in
            let allocated =
                try Int64.fetchOne(db, sql: "SELECT allocatedSequence FROM desired_states WHERE deviceID = ?", arguments: [deviceID]) ?? 0
            let accepted =
                try Int64?.fetchOne(db, sql: "SELECT acceptedDesiredSequence FROM devices WHERE id = ?", arguments: [deviceID]) ?? nil
            let last = max(allocated, accepted ?? 0)
            guard last < Int64.max else {
                throw StoreError.conflict(kind: "desired state", key: deviceID, detail: "desired-state sequences are exhausted")
            }
            try db.execute(
                sql: """
                    INSERT INTO desired_states (deviceID, allocatedSequence) VALUES (?, ?)
                    ON CONFLICT(deviceID) DO UPDATE SET allocatedSequence = excluded.allocatedSequence
                    """,
                arguments: [deviceID, last + 1])
            return UInt64(last + 1)
        }
    }

    public func saveDesiredState(_ state: DesiredStateRecord) throws(StoreError) -> Bool {
        let sequence = try Self.int64(state.sequence, "desired-state sequence")
        let release = try Self.int64(state.releaseSequence, "desired-state releaseSequence")
        return try write("save the desired state of device '\(state.deviceID)'") { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT allocatedSequence, sequence FROM desired_states WHERE deviceID = ?", arguments: [state.deviceID])
            var allocated: Int64 = 0
            if let row { allocated = try Self.column(row, "allocatedSequence", kind: "desired state", key: state.deviceID) }
            guard sequence >= 1, sequence <= allocated else {
                throw StoreError.invalid(
                    field: "desired-state sequence",
                    detail: "\(state.sequence) for device '\(state.deviceID)' was never allocated (highest allocated: \(allocated)); "
                        + "call allocateDesiredSequence first")
            }
            var saved: Int64?
            if let row { saved = try Self.column(row, "sequence", kind: "desired state", key: state.deviceID) as Int64? }
            if let saved, saved >= sequence { return false }
            try db.execute(
                sql: """
                    UPDATE desired_states SET sequence = ?, payload = ?, rolloutID = ?, releaseSequence = ?, issuedAtMs = ?
                    WHERE deviceID = ?
                    """,
                arguments: [sequence, state.payload, state.rolloutID, release, state.issuedAtMs, state.deviceID])
            return true
        }
    }

    public func desiredState(deviceID: String) throws(StoreError) -> DesiredStateRecord? {
        try read("read the desired state of device '\(deviceID)'") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM desired_states WHERE deviceID = ? AND sequence IS NOT NULL", arguments: [deviceID])
                .map(Self.desiredStateRecord)
        }
    }

    public func desiredStates(rolloutID: String) throws(StoreError) -> [DesiredStateRecord] {
        try read("list desired states of rollout \(rolloutID)") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM desired_states WHERE rolloutID = ? AND sequence IS NOT NULL ORDER BY deviceID",
                arguments: [rolloutID]
            ).map(Self.desiredStateRecord)
        }
    }

    static func desiredStateRecord(_ row: Row) throws(StoreError) -> DesiredStateRecord {
        let id: String = try column(row, "deviceID", kind: "desired state", key: "?")
        func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T { try column(row, c, kind: "desired state", key: id) }
        return DesiredStateRecord(
            deviceID: id, sequence: try col("sequence"), payload: try col("payload"), rolloutID: try col("rolloutID"),
            releaseSequence: try col("releaseSequence"), issuedAtMs: try col("issuedAtMs"))
    }
}
