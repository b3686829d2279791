public import Foundation
import GRDB

/// `CoordinatorStore` on one SQLite file, `<dataDirectory>/coordinator.sqlite`, through GRDB:
/// a WAL-mode `DatabasePool` (readers never wait for the writer), foreign keys on, a busy
/// timeout so a second process holding the write lock (a backup, `sqlite3` by hand) delays
/// instead of failing. The file is 0600 and a directory it creates is 0700: the database
/// holds device payloads and the audit log.
///
/// Sendable: the only state is the pool, which GRDB serialises (one writer, concurrent readers).
public final class SQLiteStore: CoordinatorStore {
    public static let fileName = "coordinator.sqlite"
    public static let busyTimeoutSeconds: Double = 5

    /// The database file's path.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating it if needed) and migrates the database in `dataDirectory`. Refuses a
    /// database migrated by a newer coordinator, and a file that is not an SQLite database.
    public convenience init(dataDirectory: URL) throws(StoreError) {
        try self.init(dataDirectory: dataDirectory, migrations: StoreMigrations.all)
    }

    /// `migrations` lets tests play a newer coordinator; production uses `StoreMigrations.all`.
    /// `migrate: false` (backups) opens the database as it is, without bringing it to this
    /// build's schema under a running coordinator of another version.
    init(dataDirectory: URL, migrations: [StoreMigration], migrate: Bool = true) throws(StoreError) {
        let directory = dataDirectory.standardizedFileURL.path
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        self.path = path
        try Self.prepareFiles(directory: directory, path: path)

        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(Self.busyTimeoutSeconds)
        config.label = "flotilla-coordinator-store"
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw Self.mapOpenError(error, path: path)
        }
        if migrate { try StoreMigrations.run(migrations, on: pool, path: path) }
    }

    /// Closes the connections (later calls fail with `.database`). Idempotent; also done on deinit.
    public func close() throws(StoreError) {
        do { try pool.close() } catch { throw map(error, "close") }
    }

    /// Identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() throws(StoreError) -> [String] {
        try read("read migrations") { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
    }

    // MARK: Files

    static func prepareFiles(directory: String, path: String) throws(StoreError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .cannotOpen(path: directory, detail: "it is a file, not a directory") }
        } else {
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .cannotOpen(path: directory, detail: "cannot create the data directory: \(error.localizedDescription)")
            }
        }
        // Created empty with mode 0600 before SQLite opens it; SQLite gives its -wal and -shm
        // files the database file's mode. An existing file is tightened to 0600 too.
        if !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw .cannotOpen(path: path, detail: "cannot create the database file")
            }
        } else {
            do { try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) } catch {
                throw .cannotOpen(path: path, detail: "cannot set its mode to 0600: \(error.localizedDescription)")
            }
        }
    }

    static func mapOpenError(_ error: any Error, path: String) -> StoreError {
        if let db = error as? DatabaseError {
            if db.resultCode == .SQLITE_NOTADB || db.resultCode == .SQLITE_CORRUPT {
                return .notADatabase(path: path, detail: db.message ?? "\(db.resultCode)")
            }
            return .cannotOpen(path: path, detail: db.message ?? "\(db.resultCode)")
        }
        return .cannotOpen(path: path, detail: "\(error)")
    }

    // MARK: Transactions

    /// One read transaction; errors become `StoreError` naming `operation`.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw map(error, operation) }
    }

    /// One write transaction (rolled back if `body` throws).
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw map(error, operation) }
    }

    func map(_ error: any Error, _ operation: String) -> StoreError {
        if let store = error as? StoreError { return store }
        if let db = error as? DatabaseError {
            if db.resultCode == .SQLITE_NOTADB || db.resultCode == .SQLITE_CORRUPT {
                return .notADatabase(path: path, detail: db.message ?? "\(db.resultCode)")
            }
            return .database(path: path, operation: operation, detail: db.message ?? "\(db.resultCode)")
        }
        return .database(path: path, operation: operation, detail: "\(error)")
    }
}
