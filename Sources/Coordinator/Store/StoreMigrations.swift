import GRDB

/// A named schema step. Identifiers are permanent: never edit or reorder a migration that was
/// released, append a new one (docs/coordinator-store.md, "Migrations").
struct StoreMigration: Sendable {
    var identifier: String
    var sql: String
}

enum StoreMigrations {
    /// Every migration, oldest first. Append only.
    static let all: [StoreMigration] = [StoreMigration(identifier: "v1-initial-schema", sql: StoreSchemaV1.sql)]

    static func migrator(_ migrations: [StoreMigration]) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            let sql = migration.sql
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    /// Refuses a database that has migrations this build does not know, then applies the
    /// missing ones, each in its own transaction.
    static func run(_ migrations: [StoreMigration], on pool: DatabasePool, path: String) throws(StoreError) {
        let migrator = migrator(migrations)
        let applied: Set<String>
        do { applied = try pool.read { db in try migrator.appliedIdentifiers(db) } } catch {
            throw SQLiteStore.mapOpenError(error, path: path)
        }
        let known = Set(migrations.map(\.identifier))
        let unknown = applied.subtracting(known)
        guard unknown.isEmpty else { throw .newerSchema(path: path, unknownMigrations: unknown.sorted()) }
        for migration in migrations where !applied.contains(migration.identifier) {
            do { try migrator.migrate(pool, upTo: migration.identifier) } catch {
                if case .notADatabase = SQLiteStore.mapOpenError(error, path: path) { throw SQLiteStore.mapOpenError(error, path: path) }
                throw .migrationFailed(path: path, migration: migration.identifier, detail: "\(error)")
            }
        }
    }
}
