public import Foundation

extension CoordinatorBackup {
    /// Unpacks `archive` into `dataDirectory`, after checking every file against the manifest
    /// and opening the database as the coordinator will. Nothing in `dataDirectory` changes
    /// until all checks pass; a data directory that already holds a database is only replaced
    /// with `replace`, and then kept beside it as `<dir>.before-restore-<ms>`.
    @discardableResult
    public static func restore(from archive: URL, to dataDirectory: URL, replace: Bool) throws(BackupError) -> BackupManifest {
        let fm = FileManager.default
        let target = dataDirectory.standardizedFileURL
        guard fm.fileExists(atPath: archive.path) else {
            throw .file(path: archive.path, operation: "read the backup", detail: "no such file")
        }
        let members: [String]
        do { members = try Tar.list(archive.path) } catch { throw .invalidArchive(path: archive.path, detail: "\(error)") }
        // Only plain relative names: an archive must not write outside the staging directory.
        for member in members {
            let parts = member.split(separator: "/")
            if member.hasPrefix("/") || parts.contains("..") {
                throw .invalidArchive(path: archive.path, detail: "member '\(member)' would be written outside the data directory")
            }
        }
        guard members.contains(BackupManifest.fileName) else {
            throw .invalidArchive(path: archive.path, detail: "it has no \(BackupManifest.fileName)")
        }
        let existing = try occupied(target)
        if existing && !replace { throw .dataDirectoryInUse(path: target.path) }

        try? fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let staging = try makeStagingDirectory(beside: target)
        var keepStaging = false
        defer { if !keepStaging { try? fm.removeItem(at: staging) } }
        do { try Tar.run(["-xf", archive.path, "-C", staging.path, "--no-same-owner"]) } catch {
            throw .invalidArchive(path: archive.path, detail: "\(error)")
        }
        let manifest = try verify(staging: staging, archive: archive)
        try? fm.removeItem(at: staging.appendingPathComponent(BackupManifest.fileName))
        // The archive lists files only: tar makes their directories with the umask's mode, and
        // the keyring's directory is 0700 on a running coordinator.
        let keys = staging.appendingPathComponent(SigningKeyring.directoryName)
        if fm.fileExists(atPath: keys.path) {
            do { try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: keys.path) } catch {
                throw .file(path: keys.path, operation: "set mode 0700 on", detail: "\(error.localizedDescription)")
            }
        }

        if existing || fm.fileExists(atPath: target.path) {
            if existing {
                let aside = URL(fileURLWithPath: target.path + ".before-restore-\(Int64(Date().timeIntervalSince1970 * 1000))")
                do { try fm.moveItem(at: target, to: aside) } catch {
                    throw .file(
                        path: target.path, operation: "move the current data directory aside", detail: "\(error.localizedDescription)")
                }
            } else {
                do { try fm.removeItem(at: target) } catch {
                    throw .file(path: target.path, operation: "remove the empty data directory", detail: "\(error.localizedDescription)")
                }
            }
        }
        do { try fm.moveItem(at: staging, to: target) } catch {
            throw .file(path: target.path, operation: "move the restored files into place", detail: "\(error.localizedDescription)")
        }
        keepStaging = true
        return manifest
    }

    /// Whether `directory` holds anything but nothing at all (an empty or missing directory is
    /// free; a coordinator's files, or anything else, need `replace`).
    static func occupied(_ directory: URL) throws(BackupError) -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else {
            throw .file(path: directory.path, operation: "restore into", detail: "it is a file, not a directory")
        }
        let entries = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        return !entries.isEmpty
    }

    /// Reads the manifest in `staging` and checks that exactly its files are there with their
    /// sizes and SHA-256, then opens the database and compares its counts.
    static func verify(staging: URL, archive: URL) throws(BackupError) -> BackupManifest {
        let manifestURL = staging.appendingPathComponent(BackupManifest.fileName)
        let manifest: BackupManifest
        do { manifest = try JSONDecoder().decode(BackupManifest.self, from: Data(contentsOf: manifestURL)) } catch {
            throw .invalidArchive(path: archive.path, detail: "\(BackupManifest.fileName) does not decode: \(error)")
        }
        guard manifest.format == BackupManifest.currentFormat else {
            throw .invalidArchive(
                path: archive.path,
                detail:
                    "format \(manifest.format) is not \(BackupManifest.currentFormat); restore it with the coordinator version that wrote it"
            )
        }
        guard manifest.files.contains(where: { $0.path == SQLiteStore.fileName }) else {
            throw .invalidArchive(path: archive.path, detail: "the manifest lists no \(SQLiteStore.fileName)")
        }
        for file in manifest.files {
            let found = try entry(file.path, in: staging)
            guard found.size == file.size, found.sha256 == file.sha256 else {
                throw .invalidArchive(
                    path: archive.path,
                    detail:
                        "\(file.path) has \(found.size) bytes, SHA-256 \(found.sha256); the manifest says \(file.size) bytes, \(file.sha256)"
                )
            }
        }
        let listed = Set(manifest.files.map(\.path) + [BackupManifest.fileName])
        let present = (FileManager.default.enumerator(atPath: staging.path)?.compactMap { $0 as? String } ?? []).filter { path in
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: staging.appendingPathComponent(path).path, isDirectory: &isDirectory)
            return !isDirectory.boolValue
        }
        if let extra = present.first(where: { !listed.contains($0) }) {
            throw .invalidArchive(path: archive.path, detail: "\(extra) is in the archive but not in its manifest")
        }
        let opened = try describe(databaseIn: staging, at: archive)
        guard opened.devices == manifest.devices, opened.releases == manifest.releases, opened.rollouts == manifest.rollouts else {
            throw .invalidArchive(path: archive.path, detail: "the database holds \(opened.summary), the manifest says \(manifest.summary)")
        }
        return manifest
    }
}
