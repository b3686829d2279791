import FleetProtocol

extension RolloutEngine {
    /// A class's gate failed: halt it and apply the rollback policy.
    mutating func classFailed(_ cls: String, result: GateResult, now: Int64, _ out: inout [RolloutAction]) {
        state.classes[cls]?.failedChecks = result.failedChecks
        state.classes[cls]?.stopReason = result.summary
        switch spec.rollbackPolicy {
        case .failingClass:
            revert(cls, reason: result.summary, now: now, &out)
        case .all:
            for other in state.classes.keys.sorted() where state.classes[other]?.status != .rolledBack {
                if other != cls { state.classes[other]?.stopReason = "rolled back with \(cls): \(result.summary)" }
                revert(other, reason: result.summary, now: now, &out)
            }
        case .none:
            state.classes[cls]?.status = .halted
            setStatus(.halted, now: now, &out)
        }
    }

    /// Sends every device of `cls` that was given the release back to the class's baseline
    /// (or clears its desired state, by policy), offline ones included: their desired state is
    /// retained by the broker and reaches them on reconnect. Downloads in flight are cancelled.
    mutating func revert(_ cls: String, reason: String, now: Int64, _ out: inout [RolloutAction]) {
        guard var progress = state.classes[cls], progress.status != .rolledBack, let variant = spec.variants[cls] else { return }
        let devices = assignedDevices(of: cls)
        if !devices.isEmpty {
            out.append(
                .cancelDownloads(
                    hardwareClass: cls, artifactDigest: variant.artifactDigest, releaseSequence: spec.releaseSequence, reason: reason))
        }
        let baseline = spec.baselines[cls]
        let reverts = baseline != nil || spec.clearDesiredWithoutBaseline
        var sent = 0
        for (id, assignment) in devices where assignment.revertIssuedAtMs == nil && reverts {
            if let baseline {
                let directive = RollbackDirective(
                    fromReleaseSequence: spec.releaseSequence, toReleaseSequence: baseline.releaseSequence, reason: reason)
                out.append(.rollBack(deviceID: id, artifact: baseline, directive: directive, rolloutID: spec.rolloutID))
            } else {
                out.append(.clearDesired(deviceID: id, reason: reason, rolloutID: spec.rolloutID))
            }
            state.assignments[id]?.revertIssuedAtMs = now
            sent += 1
        }
        progress.status = reverts ? .rolledBack : .halted
        if progress.stopReason == nil { progress.stopReason = reason }
        state.classes[cls] = progress
        let what =
            baseline.map { "back to release \($0.releaseSequence)" }
            ?? (reverts ? "to a cleared desired state (no baseline)" : "nowhere (no baseline; desired state left)")
        out.append(.audit("rollout \(spec.rolloutID): class \(cls) halted; \(sent) devices sent \(what)"))
    }

    /// No class is active any more: the rollout ends as the classes did.
    mutating func finishIfNoClassActive(now: Int64, _ out: inout [RolloutAction]) {
        guard [.running, .paused, .halted].contains(state.status), !state.classes.isEmpty,
            !state.classes.values.contains(where: { $0.status == .active })
        else { return }
        let statuses = state.classes.values.map(\.status)
        let next: RolloutStatus
        if statuses.contains(.done) {
            next = statuses.allSatisfy { $0 == .done } ? .completed : .completedWithHaltedClasses
        } else if statuses.contains(.rolledBack) {
            next = .rolledBack
        } else {
            next = .halted
        }
        setStatus(next, now: now, &out)
    }

    // MARK: Operator commands

    /// Why `command` cannot be applied now (nil: it can). The API can answer with this before
    /// queueing the command; `step` audits the same text when it refuses one.
    public func refusal(of command: RolloutCommand) -> String? {
        let s = state.status
        switch command.operation {
        case .pause:
            return s == .running || s == .planned ? nil : "cannot pause: the rollout is \(s.rawValue)"
        case .resume:
            return s == .paused ? nil : "cannot resume: the rollout is \(s.rawValue), not paused"
        case .abort:
            return s.isTerminal ? "cannot abort: the rollout is already \(s.rawValue)" : nil
        case .rollBack(let cls?):
            guard let p = state.classes[cls] else {
                let known = state.classes.keys.sorted().joined(separator: ", ")
                return "cannot roll back class '\(cls)': it has no device in this rollout (classes: \(known.isEmpty ? "none" : known))"
            }
            return p.status == .rolledBack ? "class '\(cls)' is already rolled back" : nil
        case .rollBack(nil):
            guard state.classes.values.contains(where: { $0.status != .rolledBack }) else {
                return state.classes.isEmpty ? "nothing to roll back: no device took part yet" : "every class is already rolled back"
            }
            return nil
        }
    }

    mutating func apply(_ command: RolloutCommand, now: Int64, devices: [RolloutDevice], _ out: inout [RolloutAction]) {
        if let refusal = refusal(of: command) {
            out.append(.audit("rollout \(spec.rolloutID): \(command.actor) asked to \(Self.verb(command)); refused: \(refusal)"))
            return
        }
        out.append(.audit("rollout \(spec.rolloutID): \(command.actor) asked to \(Self.verb(command))"))
        switch command.operation {
        case .pause:
            state.pausedAtMs = now
            setStatus(.paused, now: now, &out)
        case .resume:
            // Time spent paused does not count against the gates' deadlines.
            let paused = max(0, now - (state.pausedAtMs ?? now))
            for cls in state.classes.keys where state.classes[cls]?.status == .active {
                state.classes[cls]?.gateDeadlineMs += paused
            }
            state.pausedAtMs = nil
            setStatus(.running, now: now, &out)
        case .abort:
            let reason = "rollout aborted by \(command.actor)"
            for cls in state.classes.keys.sorted() {
                guard let p = state.classes[cls], p.status == .active || p.status == .halted, let v = spec.variants[cls] else { continue }
                if !assignedDevices(of: cls).isEmpty {
                    out.append(
                        .cancelDownloads(
                            hardwareClass: cls, artifactDigest: v.artifactDigest, releaseSequence: spec.releaseSequence, reason: reason))
                }
                state.classes[cls]?.status = .halted
                if p.stopReason == nil { state.classes[cls]?.stopReason = reason }
            }
            setStatus(.aborted, now: now, &out)
        case .rollBack(let only):
            let reason = "manual rollback by \(command.actor)"
            for cls in state.classes.keys.sorted() where only == nil || only == cls {
                revert(cls, reason: reason, now: now, &out)
            }
            if state.status.isTerminal {
                let statuses = state.classes.values.map(\.status)
                if statuses.allSatisfy({ $0 == .rolledBack }) {
                    setStatus(.rolledBack, now: now, &out)
                } else if state.status == .completed {
                    setStatus(.completedWithHaltedClasses, now: now, &out)
                }
            }
        }
    }

    static func verb(_ command: RolloutCommand) -> String {
        switch command.operation {
        case .pause: "pause"
        case .resume: "resume"
        case .abort: "abort"
        case .rollBack(let cls?): "roll back class \(cls)"
        case .rollBack(nil): "roll back every class"
        }
    }
}
