public import FleetProtocol

/// Limits of the update flow, from the agent's configuration.
public struct UpdateConfig: Codable, Sendable, Equatable {
    /// The class this device runs; artifacts for any other class are refused.
    public var hardwareClass: String
    /// A trial that crashes the agent this many times is rolled back on the next start.
    public var crashLoopLimit: Int
    /// Download rounds (the first plus re-requests) before the release is given up.
    public var maxDownloadAttempts: Int
    /// No new chunk for this long → re-request the missing ones.
    public var stallTimeoutMs: Int64
    /// After a `DownloadCancel` for a release the signed desired state still names, the
    /// download starts again after this long, doubled per consecutive cancel of the same
    /// artifact and capped at `maxCancelBackoffMs` (cancels are unsigned: they may delay an
    /// update, never stop or redirect it).
    public var cancelBackoffMs: Int64
    public var maxCancelBackoffMs: Int64
    /// A desired artifact whose announced compressed or uncompressed size is above this is
    /// refused before a byte of it is downloaded (the download and the decompression are
    /// capped at it as well, in case the announcement lies).
    public var maxArtifactBytes: Int

    public init(
        hardwareClass: String, crashLoopLimit: Int = 3, maxDownloadAttempts: Int = 5, stallTimeoutMs: Int64 = 30_000,
        cancelBackoffMs: Int64 = 300_000, maxCancelBackoffMs: Int64 = 3_600_000, maxArtifactBytes: Int = .max
    ) {
        self.hardwareClass = hardwareClass
        self.crashLoopLimit = max(crashLoopLimit, 1)
        self.maxDownloadAttempts = max(maxDownloadAttempts, 1)
        self.stallTimeoutMs = max(stallTimeoutMs, 1)
        self.cancelBackoffMs = max(cancelBackoffMs, 1)
        self.maxCancelBackoffMs = max(maxCancelBackoffMs, self.cancelBackoffMs)
        self.maxArtifactBytes = max(maxArtifactBytes, 1)
    }

    /// The wait before retrying after the `cancels`-th consecutive cancel (1-based).
    public func cancelBackoff(cancels: Int) -> Int64 {
        var delay = cancelBackoffMs
        for _ in 1..<max(cancels, 1) where delay < maxCancelBackoffMs { delay = min(delay * 2, maxCancelBackoffMs) }
        return delay
    }
}

/// A download stopped by a `DownloadCancel` while the desired state still names it.
public struct CanceledDownload: Codable, Sendable, Hashable {
    public var release: PendingRelease
    /// Consecutive cancels of this artifact (the backoff doubles with each).
    public var cancels: Int
    /// When the `tick` in `idle` starts the download again.
    public var retryAtMs: Int64

    public init(release: PendingRelease, cancels: Int, retryAtMs: Int64) {
        self.release = release
        self.cancels = cancels
        self.retryAtMs = retryAtMs
    }
}

/// A model installed in a slot.
public struct InstalledModel: Codable, Sendable, Hashable {
    public var artifact: ArtifactDescriptor
    public var slot: Slot

    public init(artifact: ArtifactDescriptor, slot: Slot) {
        self.artifact = artifact
        self.slot = slot
    }
}

/// A release on its way in: what, into which slot, under which trial policy.
public struct PendingRelease: Codable, Sendable, Hashable {
    public var artifact: ArtifactDescriptor
    public var slot: Slot
    public var trial: TrialPolicy

    public init(artifact: ArtifactDescriptor, slot: Slot, trial: TrialPolicy) {
        self.artifact = artifact
        self.slot = slot
        self.trial = trial
    }
}

public struct DownloadProgress: Codable, Sendable, Hashable {
    public var storedChunks: Int
    public var chunkCount: Int
    /// 1 for the first round; +1 per re-request after a stall.
    public var attempt: Int
    public var lastProgressMs: Int64

    public init(storedChunks: Int, chunkCount: Int, attempt: Int, lastProgressMs: Int64) {
        self.storedChunks = storedChunks
        self.chunkCount = chunkCount
        self.attempt = attempt
        self.lastProgressMs = lastProgressMs
    }
}

/// Where the update flow is. Every case is persisted (Codable) and resumable.
public enum UpdatePhase: Codable, Sendable, Equatable {
    case idle
    case downloading(PendingRelease, DownloadProgress)
    case verifying(PendingRelease, attempt: Int)
    case installing(PendingRelease)
    /// The new model is being loaded from its slot; `loadAttempts` counts starts of this
    /// trial, so a model that crashes the agent ends in a rollback instead of a crash loop.
    case trial(PendingRelease, loadAttempts: Int)
    /// Loaded; the validation bundle (and the shadow period, if any) runs.
    case validating(PendingRelease, loadAttempts: Int)
    /// Committed and watched until `watchUntilMs` (sustained regression → rollback).
    case committed(watchUntilMs: Int64)
    /// Leaving `leaving` for `restoring` (the model to serve again, nil: none) because of
    /// `reason`.
    case rollingBack(leaving: InstalledModel, restoring: InstalledModel?, reason: FailureReason)
    case failed(FailureReason)

    public var kind: UpdatePhaseKind {
        switch self {
        case .idle: .idle
        case .downloading: .downloading
        case .verifying: .verifying
        case .installing: .installing
        case .trial: .trial
        case .validating: .validating
        case .committed: .committed
        case .rollingBack: .rollingBack
        case .failed: .failed
        }
    }
}

public enum UpdatePhaseKind: String, Codable, Sendable, CaseIterable {
    case idle, downloading, verifying, installing, trial, validating, committed, rollingBack, failed
}

/// Everything the agent persists about updates (written before every side effect).
public struct UpdateState: Codable, Sendable, Equatable {
    public var phase: UpdatePhase
    /// The committed model the agent runs outside a trial.
    public var active: InstalledModel?
    /// The model committed before `active`, still in the other slot: what a rollback after
    /// commit restores. nil once that slot is reused.
    public var previous: InstalledModel?
    /// The highest desired-state sequence accepted (replay protection survives restarts).
    public var lastDesiredSequence: UInt64?
    /// A desired state that arrived during a trial or rollback, handled when it ends.
    public var deferred: DesiredState?
    public var lastRollback: RollbackRecord?
    /// Set by a cancel; cleared by the next accepted desired state or a verified download.
    public var canceled: CanceledDownload?

    public init(phase: UpdatePhase = .idle, active: InstalledModel? = nil, previous: InstalledModel? = nil) {
        self.phase = phase
        self.active = active
        self.previous = previous
    }
}

/// Everything that can happen to the update flow: a closed set. Messages arrive already
/// verified (signature, sequence) and decoded; I/O results arrive as their outcome.
public enum UpdateEvent: Sendable, Equatable {
    case desiredState(DesiredState)
    case chunkStored(storedChunks: Int)
    case downloadComplete
    /// Unrecoverable for this release (disk full, size cap, plan refused).
    case downloadFailed(detail: String)
    case digestVerified
    case digestMismatch(detail: String)
    case installed
    case installFailed(detail: String)
    case modelLoaded
    case loadFailed(detail: String)
    case validationPassed
    case validationFailed(metric: String, measured: Double, threshold: Double)
    /// The agent process started (after a clean stop, a crash or a power loss).
    case agentRestarted
    /// The inference worker crashed while running the model under trial.
    case crashDetected(detail: String)
    case cancel(DownloadCancel)
    /// A signed directive to leave the running release for the previous one.
    case rollbackDirective(RollbackDirective)
    case watchdogRegression(metric: String, measured: Double, threshold: Double)
    case rollbackFinished
    /// Time passes (stall detection, end of the watch window).
    case tick

    public var kind: UpdateEventKind {
        switch self {
        case .desiredState: .desiredState
        case .chunkStored: .chunkStored
        case .downloadComplete: .downloadComplete
        case .downloadFailed: .downloadFailed
        case .digestVerified: .digestVerified
        case .digestMismatch: .digestMismatch
        case .installed: .installed
        case .installFailed: .installFailed
        case .modelLoaded: .modelLoaded
        case .loadFailed: .loadFailed
        case .validationPassed: .validationPassed
        case .validationFailed: .validationFailed
        case .agentRestarted: .agentRestarted
        case .crashDetected: .crashDetected
        case .cancel: .cancel
        case .rollbackDirective: .rollbackDirective
        case .watchdogRegression: .watchdogRegression
        case .rollbackFinished: .rollbackFinished
        case .tick: .tick
        }
    }
}

public enum UpdateEventKind: String, Sendable, CaseIterable {
    case desiredState, chunkStored, downloadComplete, downloadFailed, digestVerified, digestMismatch, installed, installFailed
    case modelLoaded, loadFailed, validationPassed, validationFailed, agentRestarted, crashDetected, cancel, rollbackDirective
    case watchdogRegression, rollbackFinished, tick
}

/// What the agent service must do, in order. `persist` always comes first when the state
/// changed: a crash between two actions then resumes from a state that knows about both.
public enum UpdateAction: Sendable, Equatable {
    /// Write the state durably (and checkpoint the download bitmap) before going on.
    case persist(UpdateState)
    /// Subscribe to the artifact's chunk topic with a fresh download file.
    case startDownload(ArtifactDescriptor)
    /// Reopen the download file from its persisted bitmap and re-request what is missing.
    case resumeDownload(ArtifactDescriptor)
    case requestMissingChunks(ArtifactDescriptor, attempt: Int)
    /// Unsubscribe and delete the partial download.
    case abandonDownload(ArtifactDescriptor)
    /// Check the whole download's size and SHA-256 against the descriptor.
    case verifyDownload(ArtifactDescriptor)
    case eraseSlot(Slot)
    /// Stream-decompress the verified download into the slot (size capped), then verify the
    /// artifact's signature and digests from the slot.
    case installToSlot(Slot, ArtifactDescriptor)
    /// Load the slot's model for its trial (not yet the committed model).
    case loadTrial(Slot)
    case runValidation(Slot, TrialPolicy)
    /// Make the slot the committed one atomically (rename of the slot pointer).
    case commitSlot(Slot)
    /// Serve the committed model of this slot (nil: serve none).
    case activateSlot(Slot?)
    case publishState
    case publishEvent(DeviceEvent.Kind, releaseSequence: UInt64?, artifactDigest: String?, reason: FailureReason?)
}
