import FleetProtocol

/// How often the agent makes a download's progress durable: after `chunks` new chunks or
/// `intervalMs` after the last checkpoint, whichever comes first, and always when the last
/// chunk arrives. Each checkpoint costs about three fsyncs (the download file, the bitmap's
/// temporary, its directory) plus the state file's two; per 256 KiB chunk that was what bound
/// a fleet rollout (docs/benchmarks.md, "Fleet"). A crash loses at most one checkpoint's worth
/// of chunks, which the restarted agent simply asks for again.
public struct DownloadCheckpointPolicy: Codable, Sendable, Equatable {
    public var chunks: Int
    public var intervalMs: Int64

    public init(chunks: Int = 16, intervalMs: Int64 = 500) {
        self.chunks = chunks
        self.intervalMs = intervalMs
    }

    /// A policy the stall detector can live with: progress reaches the state machine only at a
    /// checkpoint, so one must come well within `stallTimeoutMs`.
    func validate(stallTimeoutMs: Int64) throws(AgentError) {
        guard (1...100_000).contains(chunks) else {
            throw .invalidConfig(field: "downloadCheckpointChunks", detail: "must be in 1...100000, not \(chunks)")
        }
        guard intervalMs >= 0, intervalMs * 2 <= stallTimeoutMs else {
            throw .invalidConfig(
                field: "downloadCheckpointMs",
                detail: "must be between 0 and half the stall timeout (\(stallTimeoutMs) ms), not \(intervalMs); "
                    + "progress is only reported at a checkpoint, so a longer interval would look like a stall")
        }
    }
}

/// The download in flight and how much of it is durable.
///
/// The rule it keeps: a bitmap is saved only from `ChunkReassembler.checkpoint()`, which syncs
/// the file first, so the persisted bitmap never claims a chunk whose bytes could still be lost.
/// Chunks stored since the last checkpoint are on the file (pwrite) and in `have`, and are
/// re-requested after a crash. Not thread-safe: the agent's actor owns it.
final class CheckpointedDownload {
    let reassembler: ChunkReassembler
    let policy: DownloadCheckpointPolicy
    private let save: (ChunkProgress) throws(AgentError) -> Void
    /// What the last saved bitmap claims.
    private(set) var persisted: ChunkBitmap
    /// New chunks stored since the last checkpoint.
    private(set) var unsaved = 0
    private(set) var lastCheckpointMs: Int64

    /// `save` makes a synced bitmap durable (the agent: `AgentStore.saveProgress`).
    init(
        reassembler: ChunkReassembler, policy: DownloadCheckpointPolicy, now: Int64,
        save: @escaping (ChunkProgress) throws(AgentError) -> Void
    ) {
        self.reassembler = reassembler
        self.policy = policy
        self.save = save
        persisted = reassembler.synced
        lastCheckpointMs = now
    }

    /// Stores a frame's chunk in the file (not yet durable). True for a new chunk.
    func accept(frameBytes: [UInt8]) throws(ChunkError) -> Bool {
        guard try reassembler.accept(frameBytes: frameBytes) else { return false }
        unsaved += 1
        return true
    }

    /// Whether unsaved chunks are due for a checkpoint at `now`.
    func isDue(now: Int64) -> Bool {
        unsaved > 0 && (reassembler.isComplete || unsaved >= policy.chunks || now - lastCheckpointMs >= policy.intervalMs)
    }

    /// Syncs the file, then saves the bitmap that sync covered (never the other way round).
    func checkpoint(now: Int64) throws(AgentError) {
        let synced: ChunkProgress
        do { synced = try reassembler.checkpoint() } catch {
            throw .fileOperationFailed(path: reassembler.path, operation: "sync download", detail: error.description)
        }
        try save(synced)
        persisted = synced.have
        unsaved = 0
        lastCheckpointMs = now
    }
}
