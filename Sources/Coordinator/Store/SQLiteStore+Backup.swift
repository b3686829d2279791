public import Foundation
import GRDB

extension SQLiteStore {
    /// Opens an existing database for `backup` without migrating it: the coordinator that owns
    /// it may be running, and may be older or newer than this build.
    public static func openForBackup(dataDirectory: URL) throws(StoreError) -> SQLiteStore {
        let path = (dataDirectory.standardizedFileURL.path as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else {
            throw .cannotOpen(path: path, detail: "there is no coordinator database to back up; check dataDirectory in the config")
        }
        return try SQLiteStore(dataDirectory: dataDirectory, migrations: StoreMigrations.all, migrate: false)
    }

    /// Copies the database to a new file at `path` with SQLite's online backup API, while this
    /// store (and the coordinator using it) keeps working: the copy is one consistent snapshot,
    /// taken inside a read transaction of the WAL-mode pool, so writes go on meanwhile and none
    /// is half in the copy. The copy is a rollback-journal file (no -wal beside it), mode 0600.
    public func backup(to path: String) throws(StoreError) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw .cannotOpen(path: path, detail: "the backup target exists already; choose a new file")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw .cannotOpen(path: path, detail: "cannot create the backup file (check the directory exists and is writable)")
        }
        do {
            let destination = try DatabaseQueue(path: path)
            try pool.backup(to: destination)
            try destination.close()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw map(error, "online backup to '\(path)'")
        }
    }

    /// `PRAGMA integrity_check` on the whole file: "ok", or the first problems SQLite found.
    public func integrityCheck() throws(StoreError) -> String {
        try read("integrity check") { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check(20)").joined(separator: "; ")
        }
    }
}
