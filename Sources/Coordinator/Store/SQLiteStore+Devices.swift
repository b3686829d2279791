public import FleetProtocol
import GRDB

extension SQLiteStore {
    /// `receivedAtMs` (coordinator clock) moves `lastSeenMs` forward; for a retained report
    /// replayed by the broker on subscribe, pass the report's own time so an offline device does
    /// not look freshly seen.
    public func applyStateReport(_ report: DeviceStateReport, receivedAtMs: Int64) throws(StoreError) -> Bool {
        try Self.nonEmpty(report.deviceID, "deviceID")
        try Self.nonEmpty(report.hardwareClass, "hardwareClass of device '\(report.deviceID)'")
        let sequence = try Self.int64(report.sequence, "state report sequence")
        let running = report.running
        let runningSequence = try Self.int64(running?.releaseSequence, "running releaseSequence")
        let pending = try Self.int64(report.pendingReleaseSequence, "pendingReleaseSequence")
        let accepted = try Self.int64(report.desiredSequence, "desiredSequence")
        let rollback = try report.lastRollback.map { (r) throws(StoreError) in try Self.encodeJSON(r, "lastRollback") }
        let columns: [String: (any DatabaseValueConvertible)?] = [
            "hardwareClass": report.hardwareClass, "agentVersion": report.agentVersion,
            "runningModelName": running?.modelName, "runningModelVersion": running?.modelVersion,
            "runningReleaseSequence": runningSequence, "runningArtifactDigest": running?.artifactDigest,
            "runningSlot": running?.slot.rawValue, "runningStatus": running?.status.rawValue,
            "phase": report.phase, "pendingReleaseSequence": pending, "acceptedDesiredSequence": accepted,
            "lastStateSequence": sequence, "lastReportedAtMs": report.reportedAtMs, "lastRollback": rollback,
        ]
        let names = columns.keys.sorted()
        return try write("apply the state report of device '\(report.deviceID)'") { db in
            let stored = try Row.fetchOne(db, sql: "SELECT lastStateSequence FROM devices WHERE id = ?", arguments: [report.deviceID])
            if let stored {
                let last: Int64? = try Self.column(stored, "lastStateSequence", kind: "device", key: report.deviceID)
                if let last, last >= sequence { return false }
                let assignments = names.map { "\($0) = ?" }.joined(separator: ", ")
                try db.execute(
                    sql: "UPDATE devices SET \(assignments), lastSeenMs = MAX(lastSeenMs, ?) WHERE id = ?",
                    arguments: StatementArguments(names.map { columns[$0] ?? nil } + [receivedAtMs, report.deviceID]))
            } else {
                let all = names + ["id", "firstSeenMs", "lastSeenMs"]
                try db.execute(
                    sql: "INSERT INTO devices (\(all.joined(separator: ", "))) VALUES (\(all.map { _ in "?" }.joined(separator: ", ")))",
                    arguments: StatementArguments(names.map { columns[$0] ?? nil } + [report.deviceID, receivedAtMs, receivedAtMs]))
            }
            return true
        }
    }

    public func applyOnlineStatus(_ status: OnlineStatus, receivedAtMs: Int64) throws(StoreError) -> Bool {
        try Self.nonEmpty(status.deviceID, "deviceID")
        try Self.nonEmpty(status.hardwareClass, "hardwareClass of device '\(status.deviceID)'")
        let connection = try Self.int64(status.connectionSequence, "connectionSequence")
        return try write("apply the online status of device '\(status.deviceID)'") { db in
            let row = try Row.fetchOne(db, sql: "SELECT online, connectionSequence FROM devices WHERE id = ?", arguments: [status.deviceID])
            guard let row else {
                try db.execute(
                    sql: """
                        INSERT INTO devices (id, hardwareClass, online, connectionSequence, firstSeenMs, lastSeenMs)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [status.deviceID, status.hardwareClass, status.online, connection, receivedAtMs, receivedAtMs])
                return true
            }
            let storedConnection: UInt64? = try Self.column(row, "connectionSequence", kind: "device", key: status.deviceID)
            if let storedConnection {
                let storedOnline: Bool = try Self.column(row, "online", kind: "device", key: status.deviceID)
                let stored = OnlineStatus(
                    deviceID: status.deviceID, online: storedOnline, connectionSequence: storedConnection,
                    hardwareClass: status.hardwareClass, atMs: 0)
                guard status.supersedes(stored) else { return false }
            }
            // Only an online message means the device itself was heard from; a will is the broker's.
            try db.execute(
                sql: """
                    UPDATE devices SET online = ?, connectionSequence = ?, hardwareClass = ?,
                        lastSeenMs = CASE WHEN ? THEN MAX(lastSeenMs, ?) ELSE lastSeenMs END
                    WHERE id = ?
                    """,
                arguments: [status.online, connection, status.hardwareClass, status.online, receivedAtMs, status.deviceID])
            return true
        }
    }

    public func touchDevice(_ deviceID: String, seenAtMs: Int64) throws(StoreError) -> Bool {
        try write("touch device '\(deviceID)'") { db in
            try db.execute(sql: "UPDATE devices SET lastSeenMs = MAX(lastSeenMs, ?) WHERE id = ?", arguments: [seenAtMs, deviceID])
            return db.changesCount > 0
        }
    }

    public func setLabels(_ labels: [String: String], deviceID: String) throws(StoreError) {
        for (key, value) in labels {
            do {
                try LabelSyntax.checkKey(key, term: key)
                try LabelSyntax.checkValue(value, term: "\(key)=\(value)")
            } catch { throw .invalid(field: "label", detail: error.description) }
            guard key != LabelSelector.idKey, key != LabelSelector.classKey else {
                throw .invalid(
                    field: "label",
                    detail: "'\(key)' is reserved: selectors read it from the device's \(key == "id" ? "id" : "hardware class")")
            }
        }
        try updateLabels(deviceID: deviceID, "set labels on device '\(deviceID)'") { $0.merge(labels) { _, new in new } }
    }

    public func removeLabels(_ keys: [String], deviceID: String) throws(StoreError) {
        try updateLabels(deviceID: deviceID, "remove labels from device '\(deviceID)'") { labels in
            for key in keys { labels[key] = nil }
        }
    }

    private func updateLabels(deviceID: String, _ operation: String, _ change: (inout [String: String]) -> Void) throws(StoreError) {
        try write(operation) { db in
            guard let text = try String.fetchOne(db, sql: "SELECT labels FROM devices WHERE id = ?", arguments: [deviceID]) else {
                throw StoreError.notFound(kind: "device", key: deviceID)
            }
            var labels = try Self.decodeJSON([String: String].self, text, kind: "device labels", key: deviceID)
            change(&labels)
            try db.execute(sql: "UPDATE devices SET labels = ? WHERE id = ?", arguments: [try Self.encodeJSON(labels, "labels"), deviceID])
        }
    }

    public func device(_ deviceID: String) throws(StoreError) -> DeviceRecord? {
        try read("read device '\(deviceID)'") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE id = ?", arguments: [deviceID]).map(Self.deviceRecord)
        }
    }

    public func devices() throws(StoreError) -> [DeviceRecord] {
        try read("list devices") { db in try Row.fetchAll(db, sql: "SELECT * FROM devices ORDER BY id").map(Self.deviceRecord) }
    }

    /// Filters in Swift: the selector's semantics (pseudo-labels, absent keys) stay in one
    /// place, and a fleet's rows fit in memory many times over.
    public func devices(matching selector: LabelSelector) throws(StoreError) -> [DeviceRecord] {
        try devices().filter { selector.matches($0) }
    }

    static func deviceRecord(_ row: Row) throws(StoreError) -> DeviceRecord {
        let id: String = try column(row, "id", kind: "device", key: "?")
        func col<T: DatabaseValueConvertible>(_ name: String) throws(StoreError) -> T { try column(row, name, kind: "device", key: id) }
        var running: RunningModel?
        if let name: String = try col("runningModelName") {
            let slotText: String = try col("runningSlot")
            let statusText: String = try col("runningStatus")
            guard let slot = Slot(rawValue: slotText), let status = RunningModel.Status(rawValue: statusText) else {
                throw .corruptRecord(kind: "device", key: id, detail: "running slot '\(slotText)' or status '\(statusText)' is unknown")
            }
            running = RunningModel(
                modelName: name, modelVersion: try col("runningModelVersion"), releaseSequence: try col("runningReleaseSequence"),
                artifactDigest: try col("runningArtifactDigest"), slot: slot, status: status)
        }
        let labelsText: String = try col("labels")
        let rollbackText: String? = try col("lastRollback")
        return DeviceRecord(
            id: id, hardwareClass: try col("hardwareClass"), agentVersion: try col("agentVersion"),
            labels: try decodeJSON([String: String].self, labelsText, kind: "device labels", key: id), running: running,
            phase: try col("phase"), pendingReleaseSequence: try col("pendingReleaseSequence"),
            acceptedDesiredSequence: try col("acceptedDesiredSequence"), online: try col("online"),
            connectionSequence: try col("connectionSequence"), firstSeenMs: try col("firstSeenMs"), lastSeenMs: try col("lastSeenMs"),
            lastStateSequence: try col("lastStateSequence"), lastReportedAtMs: try col("lastReportedAtMs"),
            lastRollback: try rollbackText.map { (t) throws(StoreError) in
                try decodeJSON(RollbackRecord.self, t, kind: "device rollback", key: id)
            })
    }
}
