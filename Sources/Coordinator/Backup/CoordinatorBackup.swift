public import Foundation
import ModelArtifact

/// Backup and restore of a coordinator's data directory (docs/operations.md): the database as
/// one consistent online snapshot (`SQLiteStore.backup`), plus the files the database points
/// at — the signing keys (devices trust nothing else), the built artifacts (`variants.path`) and
/// the uploaded sources — in one tar archive (mode 0600: it holds the private signing keys),
/// with a manifest of SHA-256 sums. The coordinator keeps running while a backup is taken; a
/// restore is done with it stopped.
public enum CoordinatorBackup {
    /// What is copied beside the database, relative to the data directory.
    static let directories = ["keys", "artifacts", "uploads"]
    /// Half-received uploads: a restarted coordinator discards them anyway.
    static let skipped = ["uploads/incoming"]

    /// Writes the backup of `store` (open on `dataDirectory`) to `archive`, which must not exist.
    @discardableResult
    public static func create(store: SQLiteStore, dataDirectory: URL, to archive: URL) throws(BackupError) -> BackupManifest {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: archive.path) else {
            throw .file(path: archive.path, operation: "create the backup", detail: "it exists already; choose a new file name")
        }
        let staging = try makeStagingDirectory(beside: archive)
        defer { try? fm.removeItem(at: staging) }

        // The database first, then the files: a build writes its artifacts before the variant
        // row naming them, so every row in the snapshot has its files on disk by the time they
        // are copied. Files newer than the snapshot come along unused, which is harmless.
        let database = staging.appendingPathComponent(SQLiteStore.fileName)
        do { try store.backup(to: database.path) } catch { throw .store(error) }
        // The counts come from the copy, opened and checked like a restore will open it.
        var manifest = try describe(databaseIn: staging, at: archive)
        var files = [try entry(SQLiteStore.fileName, in: staging)]
        for directory in directories {
            files += try copyTree(directory, from: dataDirectory, to: staging)
        }
        manifest.files = files.sorted { $0.path < $1.path }

        let manifestURL = staging.appendingPathComponent(BackupManifest.fileName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: manifestURL)
        } catch { throw .file(path: manifestURL.path, operation: "write the manifest", detail: "\(error)") }

        // Written under a temporary name (0600 from the start), renamed when complete.
        let partial = archive.deletingLastPathComponent().appendingPathComponent(".\(archive.lastPathComponent).partial")
        try? fm.removeItem(at: partial)
        guard fm.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw .file(path: partial.path, operation: "create the backup", detail: "the directory is missing or not writable")
        }
        let members = [BackupManifest.fileName] + manifest.files.map(\.path)
        do {
            try Tar.run(["-cf", partial.path, "-C", staging.path, "--"] + members)
            try fm.moveItem(at: partial, to: archive)
        } catch {
            try? fm.removeItem(at: partial)
            throw .file(path: archive.path, operation: "write the archive", detail: "\(error)")
        }
        return manifest
    }

    /// Opens the database in `directory` (not migrated: it keeps the schema it was taken with), checks
    /// its integrity and counts what it holds; the file is closed again without a -wal beside it.
    static func describe(databaseIn directory: URL, at archive: URL) throws(BackupError) -> BackupManifest {
        do {
            let store = try SQLiteStore.openForBackup(dataDirectory: directory)
            defer { try? store.close() }
            let integrity = try store.integrityCheck()
            guard integrity == "ok" else { throw BackupError.invalidArchive(path: archive.path, detail: "integrity check: \(integrity)") }
            return BackupManifest(
                format: BackupManifest.currentFormat, createdMs: Int64(Date().timeIntervalSince1970 * 1000),
                migrations: try store.appliedMigrations(), devices: try store.devices().count,
                releases: try store.releases(name: nil).count, rollouts: try store.rollouts(limit: Int(Int32.max)).count, files: [])
        } catch let error as BackupError {
            throw error
        } catch let error as StoreError {
            throw .store(error)
        } catch {
            throw .file(path: directory.path, operation: "open the database copy", detail: "\(error)")
        }
    }

    static func makeStagingDirectory(beside url: URL) throws(BackupError) -> URL {
        let staging = url.deletingLastPathComponent().appendingPathComponent(".flotilla-backup-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .file(path: staging.path, operation: "create a staging directory", detail: "\(error.localizedDescription)")
        }
        return staging
    }

    /// Copies `relative` (a directory of the data directory; absent is fine) into `staging`,
    /// modes kept, symbolic links and `skipped` left out.
    static func copyTree(_ relative: String, from dataDirectory: URL, to staging: URL) throws(BackupError) -> [BackupManifest.File] {
        let fm = FileManager.default
        let source = dataDirectory.appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: source.path, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        var files: [BackupManifest.File] = []
        let paths = (fm.enumerator(atPath: source.path)?.compactMap { $0 as? String } ?? []).sorted()
        for sub in paths {
            let path = relative + "/" + sub
            if skipped.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
            let from = dataDirectory.appendingPathComponent(path), to = staging.appendingPathComponent(path)
            do {
                let attributes = try fm.attributesOfItem(atPath: from.path)
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o600
                switch attributes[.type] as? FileAttributeType {
                case .typeDirectory?:
                    try fm.createDirectory(at: to, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
                case .typeRegular?:
                    try fm.createDirectory(at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try fm.copyItem(at: from, to: to)
                    try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: to.path)
                    files.append(try entry(path, in: staging))
                default: continue
                }
            } catch let error as BackupError {
                throw error
            } catch {
                throw .file(path: from.path, operation: "copy", detail: "\(error.localizedDescription)")
            }
        }
        return files
    }

    static func entry(_ path: String, in directory: URL) throws(BackupError) -> BackupManifest.File {
        let url = directory.appendingPathComponent(path)
        do {
            let (size, sha) = try ArtifactTransport.sha256(fileAt: url)
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o600
            return BackupManifest.File(path: path, size: size, sha256: sha, mode: mode)
        } catch {
            throw .file(path: url.path, operation: "checksum", detail: "\(error)")
        }
    }
}
