/// Why a store operation failed. Every case names the thing involved (the database file, the
/// record's kind and key, the field) and its description says how to fix it.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The data directory or the database file could not be created, opened or used.
    case cannotOpen(path: String, detail: String)
    /// The file exists but is not an SQLite database (garbage, truncated, encrypted).
    case notADatabase(path: String, detail: String)
    /// A newer coordinator migrated this database: running an older one on it could corrupt it.
    case newerSchema(path: String, unknownMigrations: [String])
    case migrationFailed(path: String, migration: String, detail: String)
    /// An operation needs a record that does not exist.
    case notFound(kind: String, key: String)
    /// A record with this key exists already, or the write contradicts one that does.
    case conflict(kind: String, key: String, detail: String)
    /// An argument the store cannot keep as given (out of range, malformed JSON, bad label).
    case invalid(field: String, detail: String)
    /// A stored row no longer decodes (hand-edited, or written by a buggy build).
    case corruptRecord(kind: String, key: String, detail: String)
    /// Any other database failure (disk full, I/O error, lock held past the busy timeout).
    case database(path: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let detail):
            "store: cannot open '\(path)': \(detail); check that the data directory exists, is writable by this user and is on a local disk"
        case .notADatabase(let path, let detail):
            "store: '\(path)' is not an SQLite database (\(detail)); move it aside and restore the data directory from a backup"
        case .newerSchema(let path, let unknown):
            "store: '\(path)' was migrated by a newer coordinator (unknown migrations: \(unknown.joined(separator: ", "))); "
                + "run that version or newer, or restore a backup taken before the upgrade"
        case .migrationFailed(let path, let migration, let detail):
            "store: migration '\(migration)' failed on '\(path)': \(detail); the database is unchanged (the migration ran in a transaction)"
        case .notFound(let kind, let key): "store: no \(kind) '\(key)'"
        case .conflict(let kind, let key, let detail): "store: \(kind) '\(key)': \(detail)"
        case .invalid(let field, let detail): "store: invalid \(field): \(detail)"
        case .corruptRecord(let kind, let key, let detail):
            "store: stored \(kind) '\(key)' does not decode (\(detail)); fix or delete the row by hand, or restore a backup"
        case .database(let path, let operation, let detail): "store: \(operation) failed on '\(path)': \(detail)"
        }
    }
}
