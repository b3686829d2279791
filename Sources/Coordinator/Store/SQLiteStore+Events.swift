public import FleetProtocol
import GRDB

extension SQLiteStore {
    public func insertEvent(_ event: DeviceEvent) throws(StoreError) -> Bool {
        try Self.nonEmpty(event.deviceID, "event deviceID")
        let sequence = try Self.int64(event.sequence, "event sequence")
        let release = try Self.int64(event.releaseSequence, "event releaseSequence")
        let reason = try event.reason.map { (r) throws(StoreError) in try Self.encodeJSON(r, "event reason") }
        return try write("store event \(event.sequence) of device '\(event.deviceID)'") { db in
            try db.execute(
                sql: """
                    INSERT INTO device_events (deviceID, sequence, atMs, kind, releaseSequence, artifactDigest, reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(deviceID, sequence) DO NOTHING
                    """,
                arguments: [event.deviceID, sequence, event.atMs, event.kind.rawValue, release, event.artifactDigest, reason])
            return db.changesCount > 0
        }
    }

    public func events(deviceID: String?, sinceMs: Int64?, limit: Int) throws(StoreError) -> [DeviceEvent] {
        try Self.checkLimit(limit)
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let deviceID {
            conditions.append("deviceID = ?")
            arguments += [deviceID]
        }
        if let sinceMs {
            conditions.append("atMs >= ?")
            arguments += [sinceMs]
        }
        arguments += [limit]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read("list device events") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM device_events \(filter) ORDER BY atMs DESC, deviceID, sequence DESC LIMIT ?", arguments: arguments
            ).map(Self.deviceEvent)
        }
    }

    static func deviceEvent(_ row: Row) throws(StoreError) -> DeviceEvent {
        let device: String = try column(row, "deviceID", kind: "event", key: "?")
        let sequence: UInt64 = try column(row, "sequence", kind: "event", key: device)
        let key = "\(device) #\(sequence)"
        func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T { try column(row, c, kind: "event", key: key) }
        let kindText: String = try col("kind")
        guard let kind = DeviceEvent.Kind(rawValue: kindText) else {
            throw .corruptRecord(kind: "event", key: key, detail: "unknown kind '\(kindText)'")
        }
        let reasonText: String? = try col("reason")
        return DeviceEvent(
            deviceID: device, sequence: sequence, atMs: try col("atMs"), kind: kind, releaseSequence: try col("releaseSequence"),
            artifactDigest: try col("artifactDigest"),
            reason: try reasonText.map { (t) throws(StoreError) in try decodeJSON(FailureReason.self, t, kind: "event reason", key: key) })
    }
}
