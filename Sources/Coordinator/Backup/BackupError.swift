/// Why a backup or a restore failed; each case names the file and says what to do.
public enum BackupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database snapshot failed (the store's error says why).
    case store(StoreError)
    /// Copying, archiving or unpacking a file failed.
    case file(path: String, operation: String, detail: String)
    /// The archive is not a Flotilla coordinator backup, or is damaged.
    case invalidArchive(path: String, detail: String)
    /// Restoring would replace a data directory that holds a coordinator's state.
    case dataDirectoryInUse(path: String)

    public var description: String {
        switch self {
        case .store(let error): "backup: \(error)"
        case .file(let path, let operation, let detail): "backup: \(operation) '\(path)' failed: \(detail)"
        case .invalidArchive(let path, let detail):
            "backup: '\(path)' is not a usable coordinator backup: \(detail); use a file written by `flotilla-coordinator backup`"
        case .dataDirectoryInUse(let path):
            "restore: '\(path)' already holds a coordinator database; stop the coordinator and pass --replace "
                + "(the current directory is kept beside it as <dir>.before-restore-<time>)"
        }
    }
}
