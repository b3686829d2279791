/// `flotilla-backup.json`, the first thing in a backup archive: what was backed up and the
/// SHA-256 of every file, so a restore refuses a damaged archive instead of starting on it.
public struct BackupManifest: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// Relative to the data directory.
        public var path: String
        public var size: Int
        public var sha256: String
        public var mode: Int
    }

    public static let fileName = "flotilla-backup.json"
    public static let currentFormat = 1

    public var format: Int
    public var createdMs: Int64
    /// The store migrations applied to the copied database: a restore into an older coordinator
    /// is refused by the store itself (StoreError.newerSchema) on first open.
    public var migrations: [String]
    public var devices: Int
    public var releases: Int
    public var rollouts: Int
    public var files: [File]

    public var summary: String {
        "\(devices) device(s), \(releases) release(s), \(rollouts) rollout(s), \(files.count) file(s)"
    }
}
