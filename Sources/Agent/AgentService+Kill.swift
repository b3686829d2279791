import FleetProtocol

/// A download this agent picked up again from its persisted bitmap after a restart.
public struct DownloadResume: Sendable, Equatable {
    public var releaseSequence: UInt64
    public var artifactDigest: String
    /// Chunks already on disk when the download was reopened.
    public var storedChunks: Int
    public var chunkCount: Int
}

/// An injected kill: where the download stood when the agent died.
public struct InjectedKill: Sendable, Equatable {
    public var releaseSequence: UInt64
    public var artifactDigest: String
    /// Chunks stored, their checkpoint written, when the agent died.
    public var storedChunks: Int
    public var chunkCount: Int
}

/// Dying like a killed process, for the fleet simulator and crash tests.
extension AgentService {
    /// Ends this agent as SIGKILL would: every task is cancelled, the download file is closed
    /// and nothing more is handled, persisted or published — no offline status, no flush (the
    /// broker's last will says the device went away once its connection is cut). What was
    /// persisted before stays: a new agent on the same data directory resumes from it.
    /// Unlike `stop()`, the transport is left as it is; cut it without DISCONNECT.
    public func kill() {
        killed = true
        for t in tasks { t.cancel() }
        tasks = []
        chunkTask?.cancel()
        chunkTask = nil
        cancelTask?.cancel()
        cancelTask = nil
        queue = []
        outgoingSink.finish()
        // A dead process's descriptors close; chunks since the last checkpoint are not in the
        // persisted bitmap and are asked for again, as after a real kill.
        reassembler?.close()
        download = nil
        servingRunner = nil
        injectedKillSink.finish()
    }

    /// The injected killMidDownload fault: called after a checkpoint was written and before the
    /// state machine hears of its chunks. Returns true when the agent died.
    func killsHere(_ r: ChunkReassembler) -> Bool {
        guard killIsDue(r), case .downloading(let release, _) = machine.state.phase else { return false }
        let stored = r.have.setCount, total = r.plan.chunkCount
        let a = release.artifact
        log("injected fault killMidDownload: dying at \(stored)/\(total) chunks of release \(a.releaseSequence) (simulation)")
        let kill = InjectedKill(
            releaseSequence: a.releaseSequence, artifactDigest: a.artifactDigest, storedChunks: stored, chunkCount: total)
        injectedKillSink.yield(kill)
        self.kill()
        return true
    }

    /// Whether the injected kill is due with the chunks stored now. The download path forces a
    /// checkpoint at that chunk (rather than at the next batch boundary), so the agent still
    /// dies with exactly that many chunks durable, as the fault describes.
    func killIsDue(_ r: ChunkReassembler) -> Bool {
        guard !config.faults.isEmpty, !downloadResumedFromCheckpoint, case .downloading(let release, _) = machine.state.phase else {
            return false
        }
        let a = release.artifact
        return config.faults.killsDownload(
            modelVersion: a.modelVersion, releaseSequence: a.releaseSequence, stored: r.have.setCount, total: r.plan.chunkCount)
    }
}
