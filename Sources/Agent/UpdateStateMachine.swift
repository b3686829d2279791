import FleetProtocol

/// One transition of the update flow: in phase `from`, event `event` leads to phase `to`.
public struct UpdateTransition: Sendable, Hashable, CustomStringConvertible {
    public var from: UpdatePhaseKind
    public var event: UpdateEventKind
    public var to: UpdatePhaseKind

    public init(_ from: UpdatePhaseKind, _ event: UpdateEventKind, _ to: UpdatePhaseKind) {
        self.from = from
        self.event = event
        self.to = to
    }

    public var description: String { "\(from.rawValue) --\(event.rawValue)--> \(to.rawValue)" }
}

/// The agent's update flow as a value: `handle` takes an event and the current time and
/// returns the actions to perform, `persist` first whenever the state changed. No I/O, no
/// clock: the service feeds events (messages, I/O outcomes, restarts, ticks) and executes the
/// actions in order, so every path is testable without a device (mender's state machine is the
/// model).
///
/// `transitions` is the whole table: every event that does something in a phase is a row
/// (guards that pick between targets appear as one row per target, labelled in `guards`).
/// Anything else is ignored — no state change, no action. docs/agent.md draws exactly these
/// rows (a test checks it), and a test drives every phase with every event to check the code
/// takes only these rows.
public struct UpdateStateMachine: Sendable {
    public static let transitions: [UpdateTransition: String] = [
        .init(.idle, .desiredState, .downloading): "accepted",
        .init(.idle, .desiredState, .idle): "refused or nothing to do",
        .init(.idle, .rollbackDirective, .rollingBack): "previous slot holds the target",
        .init(.idle, .rollbackDirective, .idle): "refused",
        .init(.idle, .desiredState, .rollingBack): "rollback directive, previous slot holds the target",
        .init(.idle, .agentRestarted, .idle): "serve active, report",
        .init(.idle, .tick, .downloading): "canceled but still desired: retry after backoff",

        .init(.downloading, .chunkStored, .downloading): "progress",
        .init(.downloading, .downloadComplete, .verifying): "",
        .init(.downloading, .downloadFailed, .failed): "",
        .init(.downloading, .tick, .downloading): "stalled: re-request missing",
        .init(.downloading, .tick, .failed): "stalled, attempts exhausted",
        .init(.downloading, .cancel, .idle): "this artifact",
        .init(.downloading, .desiredState, .downloading): "superseded, same or refused",
        .init(.downloading, .desiredState, .idle): "nothing to install any more",
        .init(.downloading, .desiredState, .rollingBack): "rollback directive, previous slot holds the target",
        .init(.downloading, .agentRestarted, .downloading): "resume from bitmap",

        .init(.verifying, .digestVerified, .installing): "",
        .init(.verifying, .digestMismatch, .downloading): "attempts left: start over",
        .init(.verifying, .digestMismatch, .failed): "attempts exhausted",
        .init(.verifying, .cancel, .idle): "this artifact",
        .init(.verifying, .desiredState, .downloading): "superseded",
        .init(.verifying, .desiredState, .verifying): "same or refused",
        .init(.verifying, .desiredState, .idle): "nothing to install any more",
        .init(.verifying, .desiredState, .rollingBack): "rollback directive, previous slot holds the target",
        .init(.verifying, .agentRestarted, .verifying): "verify again",

        .init(.installing, .installed, .trial): "",
        .init(.installing, .installFailed, .failed): "",
        .init(.installing, .desiredState, .downloading): "superseded",
        .init(.installing, .desiredState, .installing): "same or refused",
        .init(.installing, .desiredState, .idle): "nothing to install any more",
        .init(.installing, .agentRestarted, .installing): "erase slot, install again",

        .init(.trial, .modelLoaded, .validating): "",
        .init(.trial, .loadFailed, .rollingBack): "",
        .init(.trial, .crashDetected, .trial): "below crash limit: reload",
        .init(.trial, .crashDetected, .rollingBack): "crash limit reached",
        .init(.trial, .agentRestarted, .trial): "below crash limit: reload",
        .init(.trial, .agentRestarted, .rollingBack): "crash limit reached",
        .init(.trial, .desiredState, .trial): "deferred or refused",
        .init(.trial, .rollbackDirective, .rollingBack): "leaves this release",
        .init(.trial, .rollbackDirective, .trial): "refused",

        .init(.validating, .validationPassed, .committed): "",
        .init(.validating, .validationFailed, .rollingBack): "metric, measured, threshold",
        .init(.validating, .crashDetected, .trial): "below crash limit: reload",
        .init(.validating, .crashDetected, .rollingBack): "crash limit reached",
        .init(.validating, .agentRestarted, .trial): "below crash limit: reload",
        .init(.validating, .agentRestarted, .rollingBack): "crash limit reached",
        .init(.validating, .desiredState, .validating): "deferred or refused",
        .init(.validating, .rollbackDirective, .rollingBack): "leaves this release",
        .init(.validating, .rollbackDirective, .validating): "refused",

        .init(.committed, .tick, .idle): "watch window over",
        .init(.committed, .watchdogRegression, .rollingBack): "previous slot kept",
        .init(.committed, .watchdogRegression, .committed): "nothing to go back to: report",
        .init(.committed, .desiredState, .downloading): "accepted",
        .init(.committed, .desiredState, .committed): "refused or nothing to do",
        .init(.committed, .desiredState, .rollingBack): "rollback directive, previous slot holds the target",
        .init(.committed, .rollbackDirective, .rollingBack): "previous slot holds the target",
        .init(.committed, .rollbackDirective, .committed): "refused",
        .init(.committed, .agentRestarted, .committed): "serve active, report",

        .init(.rollingBack, .rollbackFinished, .idle): "report why",
        .init(.rollingBack, .agentRestarted, .rollingBack): "switch again",
        .init(.rollingBack, .desiredState, .rollingBack): "deferred or refused",

        .init(.failed, .desiredState, .downloading): "accepted",
        .init(.failed, .desiredState, .failed): "refused or nothing to do",
        .init(.failed, .desiredState, .rollingBack): "rollback directive, previous slot holds the target",
        .init(.failed, .rollbackDirective, .rollingBack): "previous slot holds the target",
        .init(.failed, .rollbackDirective, .failed): "refused",
        .init(.failed, .agentRestarted, .failed): "serve active, report",
    ]

    public let config: UpdateConfig
    public private(set) var state: UpdateState
    /// The rows the last `handle` took: none (ignored), one, or two when reaching a resting
    /// phase released a deferred desired state.
    public private(set) var lastTransitions: [UpdateTransition] = []

    public init(config: UpdateConfig, state: UpdateState = UpdateState()) {
        self.config = config
        self.state = state
    }

    public mutating func handle(_ event: UpdateEvent, now: Int64) -> [UpdateAction] {
        lastTransitions = []
        let before = state
        guard let (stepped, effects) = step(before, event, now: now) else { return [] }
        var after = stepped
        lastTransitions.append(UpdateTransition(before.phase.kind, event.kind, after.phase.kind))
        var actions: [UpdateAction] = []
        // A desired state deferred during a trial or rollback is handled as soon as the flow
        // rests again, in the same step, so no retained message is ever lost.
        if Self.isResting(after.phase), let deferred = after.deferred {
            after.deferred = nil
            let resting = after
            let (next, more) = Self.desired(resting, deferred, config: config, now: now, checkReplay: false)
            lastTransitions.append(UpdateTransition(resting.phase.kind, .desiredState, next.phase.kind))
            actions = [.persist(next)] + effects + more
            after = next
        } else {
            actions = (after != before ? [.persist(after)] : []) + effects
        }
        state = after
        return actions
    }

    static func isResting(_ phase: UpdatePhase) -> Bool {
        switch phase {
        case .idle, .committed, .failed: true
        default: false
        }
    }

    // MARK: The table's code: one case per row group, nil when the event is ignored.

    private func step(_ s: UpdateState, _ event: UpdateEvent, now: Int64) -> (UpdateState, [UpdateAction])? {
        var n = s
        switch (s.phase, event) {
        case (_, .desiredState(let d)):
            switch s.phase {
            case .trial, .validating, .rollingBack:
                if let refusal = Self.replayRefusal(s, d) { return (s, [refusal]) }
                n.lastDesiredSequence = d.sequence
                n.deferred = d
                return (n, [])
            default:
                return Self.desired(s, d, config: config, now: now, checkReplay: true)
            }

        case (.idle, .agentRestarted), (.committed, .agentRestarted), (.failed, .agentRestarted):
            return (s, [.activateSlot(s.active?.slot), .publishState])

        case (.idle, .rollbackDirective(let r)), (.committed, .rollbackDirective(let r)), (.failed, .rollbackDirective(let r)):
            guard let active = s.active, let previous = s.previous, r.fromReleaseSequence == active.artifact.releaseSequence,
                r.toReleaseSequence == previous.artifact.releaseSequence
            else {
                let reason = FailureReason(
                    code: .rollbackDirective,
                    detail: "directive from release \(r.fromReleaseSequence) to \(r.toReleaseSequence) does not match this device "
                        + "(running \(s.active.map { String($0.artifact.releaseSequence) } ?? "nothing"), previous slot "
                        + "\(s.previous.map { String($0.artifact.releaseSequence) } ?? "empty")); publish a desired state with the target release"
                )
                return (s, [.publishEvent(.desiredStateRefused, releaseSequence: r.toReleaseSequence, artifactDigest: nil, reason: reason)])
            }
            let reason = FailureReason(code: .rollbackDirective, detail: r.reason)
            return Self.startRollback(s, leaving: active, restoring: previous, reason: reason)

        case (.downloading(let release, var progress), .chunkStored(let stored)):
            progress.storedChunks = min(max(stored, 0), progress.chunkCount)
            progress.lastProgressMs = now
            n.phase = .downloading(release, progress)
            return (n, [])
        case (.downloading(let release, _), .downloadComplete):
            n.phase = .verifying(release, attempt: Self.attempt(s.phase))
            return (n, [.verifyDownload(release.artifact), Self.event(.downloadFinished, release)])
        case (.downloading(let release, _), .downloadFailed(let detail)):
            return Self.fail(s, release, FailureReason(code: .downloadFailed, detail: detail), kind: .downloadFailed)
        case (.downloading(let release, var progress), .tick):
            guard now - progress.lastProgressMs >= config.stallTimeoutMs else { return nil }
            guard progress.attempt < config.maxDownloadAttempts else {
                let reason = FailureReason(
                    code: .downloadFailed,
                    detail: "no progress after \(progress.attempt) attempts (\(progress.storedChunks)/\(progress.chunkCount) chunks)")
                return Self.fail(s, release, reason, kind: .downloadFailed)
            }
            progress.attempt += 1
            progress.lastProgressMs = now
            n.phase = .downloading(release, progress)
            return (n, [.requestMissingChunks(release.artifact, attempt: progress.attempt)])
        case (.downloading(let release, _), .cancel(let c)), (.verifying(let release, _), .cancel(let c)):
            guard c.artifactDigest == release.artifact.artifactDigest else { return nil }
            n.phase = .idle
            // Unsigned, so only a pause: the signed desired state still names this release and
            // the download starts again after a backoff (or at the next desired state).
            let cancels = (s.canceled?.release.artifact == release.artifact ? s.canceled?.cancels ?? 0 : 0) + 1
            let retryAt = now + config.cancelBackoff(cancels: cancels)
            n.canceled = CanceledDownload(release: release, cancels: cancels, retryAtMs: retryAt)
            let reason = FailureReason(
                code: .canceled,
                detail: "\(c.reason); retrying in \(config.cancelBackoff(cancels: cancels) / 1000) s unless the desired state changes")
            return (
                n,
                [.abandonDownload(release.artifact), Self.event(.downloadCanceled, release, reason), .publishState]
            )
        case (.idle, .tick):
            guard let c = s.canceled, now >= c.retryAtMs else { return nil }
            // The active slot may have changed since (a rollback): install beside it again.
            let release = PendingRelease(artifact: c.release.artifact, slot: s.active?.slot.other ?? .a, trial: c.release.trial)
            n.canceled?.release = release
            n.canceled?.retryAtMs = .max
            n.phase = .downloading(release, Self.freshProgress(release, attempt: 1, now: now))
            return (n, [.startDownload(release.artifact), Self.event(.downloadStarted, release), .publishState])
        case (.downloading(let release, _), .agentRestarted):
            return (
                s, [.activateSlot(s.active?.slot), .resumeDownload(release.artifact), Self.event(.downloadResumed, release), .publishState]
            )

        case (.verifying(let release, _), .digestVerified):
            n.phase = .installing(release)
            n.previous = nil  // the slot it lived in is about to be overwritten
            n.canceled = nil
            return (n, [.eraseSlot(release.slot), .installToSlot(release.slot, release.artifact)])
        case (.verifying(let release, let attempt), .digestMismatch(let detail)):
            guard attempt < config.maxDownloadAttempts else {
                return Self.fail(s, release, FailureReason(code: .digestMismatch, detail: detail), kind: .downloadFailed)
            }
            n.phase = .downloading(release, Self.freshProgress(release, attempt: attempt + 1, now: now))
            return (n, [.abandonDownload(release.artifact), .startDownload(release.artifact)])
        case (.verifying(let release, _), .agentRestarted):
            return (s, [.activateSlot(s.active?.slot), .verifyDownload(release.artifact), .publishState])

        case (.installing(let release), .installed):
            n.phase = .trial(release, loadAttempts: 1)
            // The download goes only now: a crash before this state was persisted redoes the
            // install from it.
            return (
                n,
                [
                    .abandonDownload(release.artifact), Self.event(.installed, release), Self.event(.trialStarted, release),
                    .loadTrial(release.slot), .publishState,
                ]
            )
        case (.installing(let release), .installFailed(let detail)):
            var (f, actions) = Self.fail(s, release, FailureReason(code: .installFailed, detail: detail), kind: .updateFailed)
            f.previous = nil
            actions.insert(.eraseSlot(release.slot), at: 0)
            return (f, actions)
        case (.installing(let release), .agentRestarted):
            // The slot may hold half an artifact: never load it, write it again from scratch.
            return (s, [.activateSlot(s.active?.slot), .eraseSlot(release.slot), .installToSlot(release.slot, release.artifact)])

        case (.trial(let release, let attempts), .modelLoaded):
            n.phase = .validating(release, loadAttempts: attempts)
            return (n, [.runValidation(release.slot, release.trial)])
        case (.trial(let release, _), .loadFailed(let detail)):
            return Self.startRollback(
                s, leaving: InstalledModel(artifact: release.artifact, slot: release.slot), restoring: s.active,
                reason: FailureReason(code: .loadFailed, detail: detail))
        case (.trial(let release, let attempts), .crashDetected(let detail)),
            (.validating(let release, let attempts), .crashDetected(let detail)):
            return crashed(s, release, attempts: attempts, detail: "the model crashed the inference worker: \(detail)")
        case (.trial(let release, let attempts), .agentRestarted), (.validating(let release, let attempts), .agentRestarted):
            return crashed(s, release, attempts: attempts, detail: "the agent restarted during the trial")
        case (.trial(let release, _), .rollbackDirective(let r)), (.validating(let release, _), .rollbackDirective(let r)):
            guard r.fromReleaseSequence == release.artifact.releaseSequence else {
                let reason = FailureReason(
                    code: .rollbackDirective,
                    detail: "directive leaves release \(r.fromReleaseSequence), but release \(release.artifact.releaseSequence) is on trial"
                )
                return (s, [.publishEvent(.desiredStateRefused, releaseSequence: r.toReleaseSequence, artifactDigest: nil, reason: reason)])
            }
            return Self.startRollback(
                s, leaving: InstalledModel(artifact: release.artifact, slot: release.slot), restoring: s.active,
                reason: FailureReason(code: .rollbackDirective, detail: r.reason))

        case (.validating(let release, _), .validationPassed):
            let model = InstalledModel(artifact: release.artifact, slot: release.slot)
            n.previous = s.active
            n.active = model
            n.phase = .committed(watchUntilMs: now + Int64(max(release.trial.watchSeconds, 0)) * 1000)
            return (n, [.commitSlot(release.slot), .activateSlot(release.slot), Self.event(.committed, release), .publishState])
        case (.validating(let release, _), .validationFailed(let metric, let measured, let threshold)):
            let reason = FailureReason(
                code: .validationFailed, detail: "validation check '\(metric)' failed", metric: metric, measured: measured,
                threshold: threshold)
            return Self.startRollback(
                s, leaving: InstalledModel(artifact: release.artifact, slot: release.slot), restoring: s.active, reason: reason)

        case (.committed(let until), .tick):
            guard now >= until else { return nil }
            n.phase = .idle
            return (n, [.publishState])
        case (.committed, .watchdogRegression(let metric, let measured, let threshold)):
            let reason = FailureReason(
                code: .watchdogRegression, detail: "sustained regression of '\(metric)' after commit", metric: metric, measured: measured,
                threshold: threshold)
            guard let active = s.active, let previous = s.previous else {
                return (
                    s,
                    [
                        .publishEvent(
                            .updateFailed, releaseSequence: s.active?.artifact.releaseSequence,
                            artifactDigest: s.active?.artifact.artifactDigest, reason: reason)
                    ]
                )
            }
            return Self.startRollback(s, leaving: active, restoring: previous, reason: reason)

        case (.rollingBack(let leaving, let restoring, let reason), .rollbackFinished):
            n.phase = .idle
            if restoring != s.active {  // a rollback after commit: the previous model is active again
                n.active = restoring
                n.previous = nil
            }
            n.lastRollback = RollbackRecord(
                releaseSequence: leaving.artifact.releaseSequence, artifactDigest: leaving.artifact.artifactDigest, reason: reason,
                atMs: now)
            return (
                n,
                [
                    .publishEvent(
                        .rolledBack, releaseSequence: leaving.artifact.releaseSequence, artifactDigest: leaving.artifact.artifactDigest,
                        reason: reason), .publishState,
                ]
            )
        case (.rollingBack(let leaving, let restoring, _), .agentRestarted):
            return (s, Self.rollbackEffects(leaving: leaving, restoring: restoring, active: s.active))

        default:
            return nil
        }
    }

    /// A crash or restart during a trial: reload while below the limit, else roll back.
    private func crashed(_ s: UpdateState, _ release: PendingRelease, attempts: Int, detail: String) -> (UpdateState, [UpdateAction]) {
        guard attempts < config.crashLoopLimit else {
            let reason = FailureReason(
                code: .crashLoop, detail: "\(detail); \(attempts) starts of this trial failed (limit \(config.crashLoopLimit))",
                metric: "trialStarts", measured: Double(attempts), threshold: Double(config.crashLoopLimit))
            return Self.startRollback(
                s, leaving: InstalledModel(artifact: release.artifact, slot: release.slot), restoring: s.active, reason: reason)
        }
        var n = s
        n.phase = .trial(release, loadAttempts: attempts + 1)
        return (n, [.activateSlot(s.active?.slot), .loadTrial(release.slot), .publishState])
    }

    // MARK: Desired state

    static func replayRefusal(_ s: UpdateState, _ d: DesiredState) -> UpdateAction? {
        guard let last = s.lastDesiredSequence, d.sequence <= last else { return nil }
        let reason = FailureReason(code: .invalidDesiredState, detail: "sequence \(d.sequence) is not above the accepted \(last) (replay)")
        return .publishEvent(
            .desiredStateRefused, releaseSequence: d.artifact?.releaseSequence, artifactDigest: d.artifact?.artifactDigest, reason: reason)
    }

    /// A desired state in a phase that can act on it (resting or still downloading).
    static func desired(
        _ s: UpdateState, _ d: DesiredState, config: UpdateConfig, now: Int64, checkReplay: Bool
    ) -> (UpdateState, [UpdateAction]) {
        if checkReplay, let refusal = replayRefusal(s, d) { return (s, [refusal]) }
        var n = s
        n.lastDesiredSequence = d.sequence
        let inFlight: PendingRelease? =
            switch s.phase {
            case .downloading(let r, _), .verifying(let r, _), .installing(let r): r
            default: nil
            }
        // Leaving an update in flight: drop its download, and a half-written slot.
        func abandon() -> [UpdateAction] {
            guard let r = inFlight else { return [] }
            if case .installing = s.phase { return [.abandonDownload(r.artifact), .eraseSlot(r.slot)] }
            return [.abandonDownload(r.artifact)]
        }
        let outcome = verdict(s, d, config: config)
        if case .refuse = outcome {} else { n.canceled = nil }
        switch outcome {
        case .rollBack(let active, let previous, let directive):
            // The target is still in the other slot: switch back, no download.
            var (r, effects) = startRollback(
                n, leaving: active, restoring: previous, reason: FailureReason(code: .rollbackDirective, detail: directive.reason))
            if inFlight != nil { effects = abandon() + effects }
            r.lastDesiredSequence = d.sequence
            return (r, effects)
        case .refuse(let reason):
            return (
                n,
                [
                    .publishEvent(
                        .desiredStateRefused, releaseSequence: d.artifact?.releaseSequence,
                        artifactDigest: d.artifact?.artifactDigest, reason: reason)
                ]
            )
        case .nothingToDo:
            if inFlight != nil { n.phase = .idle }
            return (n, abandon() + (inFlight != nil ? [.publishState] : []))
        case .install(let artifact):
            if let r = inFlight, r.artifact == artifact {
                return (n, [])  // already on its way
            }
            let release = PendingRelease(artifact: artifact, slot: s.active?.slot.other ?? .a, trial: d.trial)
            n.phase = .downloading(release, freshProgress(release, attempt: 1, now: now))
            return (n, abandon() + [.startDownload(artifact), event(.downloadStarted, release), .publishState])
        }
    }

    enum Verdict {
        case refuse(FailureReason), nothingToDo, install(ArtifactDescriptor)
        case rollBack(active: InstalledModel, previous: InstalledModel, RollbackDirective)
    }

    static func verdict(_ s: UpdateState, _ d: DesiredState, config: UpdateConfig) -> Verdict {
        guard let artifact = d.artifact else { return .nothingToDo }
        guard artifact.hardwareClass == config.hardwareClass else {
            return .refuse(
                FailureReason(
                    code: .foreignHardwareClass,
                    detail: "artifact is for hardware class '\(artifact.hardwareClass)', this device is '\(config.hardwareClass)'"))
        }
        do { _ = try artifact.chunkPlan } catch {
            return .refuse(FailureReason(code: .invalidDesiredState, detail: error.description))
        }
        if let tooLarge = sizeRefusal(artifact, maxBytes: config.maxArtifactBytes) { return .refuse(tooLarge) }
        guard let running = s.active?.artifact else { return .install(artifact) }
        if artifact.artifactDigest == running.artifactDigest { return .nothingToDo }
        // While installing, the previous model's slot is being overwritten: it is no target.
        let installing = if case .installing = s.phase { true } else { false }
        if !installing, let r = d.rollback, let active = s.active, let previous = s.previous,
            r.fromReleaseSequence == running.releaseSequence,
            r.toReleaseSequence == artifact.releaseSequence, previous.artifact.artifactDigest == artifact.artifactDigest,
            previous.artifact.releaseSequence == artifact.releaseSequence
        {
            return .rollBack(active: active, previous: previous, r)
        }
        guard artifact.modelName == running.modelName else { return .install(artifact) }
        if artifact.releaseSequence == running.releaseSequence {
            return .refuse(
                FailureReason(
                    code: .invalidDesiredState,
                    detail: "release \(artifact.releaseSequence) is already running with another artifact digest"))
        }
        if artifact.releaseSequence < running.releaseSequence {
            guard let r = d.rollback, r.toReleaseSequence == artifact.releaseSequence, r.fromReleaseSequence == running.releaseSequence
            else {
                return .refuse(
                    FailureReason(
                        code: .downgradeRefused,
                        detail: "release \(artifact.releaseSequence) is older than the running \(running.releaseSequence) "
                            + "and no signed rollback directive from \(running.releaseSequence) to \(artifact.releaseSequence) came with it"
                    ))
            }
        }
        return .install(artifact)
    }

    // MARK: Helpers

    static func freshProgress(_ r: PendingRelease, attempt: Int, now: Int64) -> DownloadProgress {
        let chunks = (try? r.artifact.chunkPlan.chunkCount) ?? 0
        return DownloadProgress(storedChunks: 0, chunkCount: chunks, attempt: attempt, lastProgressMs: now)
    }

    static func attempt(_ phase: UpdatePhase) -> Int {
        if case .downloading(_, let p) = phase { return p.attempt }
        return 1
    }

    static func event(_ kind: DeviceEvent.Kind, _ r: PendingRelease, _ reason: FailureReason? = nil) -> UpdateAction {
        .publishEvent(kind, releaseSequence: r.artifact.releaseSequence, artifactDigest: r.artifact.artifactDigest, reason: reason)
    }

    static func fail(_ s: UpdateState, _ r: PendingRelease, _ reason: FailureReason, kind: DeviceEvent.Kind) -> (
        UpdateState, [UpdateAction]
    ) {
        var n = s
        n.phase = .failed(reason)
        return (n, [.abandonDownload(r.artifact), event(kind, r, reason), .publishState])
    }

    /// Serve the restored model; after a commit (the restored model is not the active one) the
    /// slot pointer goes back too, before the left slot is erased.
    static func rollbackEffects(leaving: InstalledModel, restoring: InstalledModel?, active: InstalledModel?) -> [UpdateAction] {
        var effects: [UpdateAction] = [.activateSlot(restoring?.slot)]
        if let restoring, restoring != active { effects.append(.commitSlot(restoring.slot)) }
        return effects + [.eraseSlot(leaving.slot), .publishState]
    }

    static func startRollback(
        _ s: UpdateState, leaving: InstalledModel, restoring: InstalledModel?, reason: FailureReason
    ) -> (UpdateState, [UpdateAction]) {
        var n = s
        n.phase = .rollingBack(leaving: leaving, restoring: restoring, reason: reason)
        return (n, rollbackEffects(leaving: leaving, restoring: restoring, active: s.active))
    }
}
