import Foundation
import GRDB

/// Conversions between Swift values and columns, each refusing what it cannot keep exactly.
extension SQLiteStore {
    /// SQLite integers are signed: a `UInt64` above Int64.max is refused, never wrapped.
    static func int64(_ value: UInt64, _ field: String) throws(StoreError) -> Int64 {
        guard let v = Int64(exactly: value) else {
            throw .invalid(field: field, detail: "\(value) is above \(Int64.max), the largest value SQLite stores")
        }
        return v
    }

    static func int64(_ value: UInt64?, _ field: String) throws(StoreError) -> Int64? {
        guard let value else { return nil }
        let exact: Int64 = try int64(value as UInt64, field)
        return exact
    }

    static func int64(_ value: Int, _ field: String, minimum: Int = 0) throws(StoreError) -> Int64 {
        guard value >= minimum else { throw .invalid(field: field, detail: "\(value) is below \(minimum)") }
        return Int64(value)
    }

    static func nonEmpty(_ value: String, _ field: String) throws(StoreError) {
        guard !value.isEmpty else { throw .invalid(field: field, detail: "must not be empty") }
    }

    /// Caller-supplied JSON text is kept verbatim but must parse, so every JSON column is JSON.
    static func checkJSON(_ text: String, _ field: String) throws(StoreError) {
        do { _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) } catch {
            throw .invalid(field: field, detail: "is not valid JSON (\(error.localizedDescription))")
        }
    }

    static func encodeJSON<T: Encodable>(_ value: T, _ field: String) throws(StoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw .invalid(field: field, detail: "cannot be encoded as JSON: \(error)")
        }
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, kind: String, key: String) throws(StoreError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch {
            throw .corruptRecord(kind: kind, key: key, detail: "\(error)")
        }
    }

    /// Reads a column, turning GRDB's decoding error (NULL where a value must be, a negative
    /// number for a UInt64...) into `.corruptRecord` naming the record. Ask for an optional
    /// type where NULL is allowed.
    static func column<T: DatabaseValueConvertible>(_ row: Row, _ name: String, kind: String, key: String) throws(StoreError) -> T {
        do { return try row.decode(T.self, forColumn: name) } catch {
            throw .corruptRecord(kind: kind, key: key, detail: "column \(name): \(error)")
        }
    }

    static func checkLimit(_ limit: Int) throws(StoreError) {
        guard limit > 0 else { throw .invalid(field: "limit", detail: "\(limit) must be at least 1") }
    }
}
