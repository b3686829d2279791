/// A rollout as the engine persists it. The spec and the engine's state are JSON text the
/// Rollout module owns; the store only keeps them and guards concurrent writers with
/// `revision` (optimistic concurrency: an update names the revision it read).
public struct RolloutRecord: Codable, Sendable, Equatable {
    public var id: String
    public var modelName: String
    public var modelVersion: String
    public var releaseSequence: UInt64
    public var specJSON: String
    public var stateJSON: String
    /// The engine's status word ("running", "paused", "halted", "completed", ...).
    public var status: String
    public var createdBy: String
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    /// 1 when inserted; each successful update adds one.
    public var revision: Int64

    public init(
        id: String, modelName: String, modelVersion: String, releaseSequence: UInt64, specJSON: String, stateJSON: String, status: String,
        createdBy: String, createdAtMs: Int64, updatedAtMs: Int64, revision: Int64 = 1
    ) {
        self.id = id
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.releaseSequence = releaseSequence
        self.specJSON = specJSON
        self.stateJSON = stateJSON
        self.status = status
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.revision = revision
    }
}
