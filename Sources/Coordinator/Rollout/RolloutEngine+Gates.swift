import FleetProtocol

/// Where a class's devices stand with the new release.
struct InstallTally: Equatable {
    var committed = 0
    var failed = 0
    var pending = 0
    var total: Int { committed + failed + pending }
}

extension RolloutEngine {
    /// Judges the current wave's gate of every active class that has not passed it yet.
    mutating func judgeGates(_ input: RolloutInput, devices: [RolloutDevice], _ out: inout [RolloutAction]) {
        let byID = Dictionary(devices.map { ($0.deviceID, $0) }, uniquingKeysWith: { _, last in last })
        for cls in state.classes.keys.sorted() {
            guard let progress = state.classes[cls], progress.status == .active, progress.passedWave != state.currentWave else {
                continue
            }
            // A failure under policy `all` or `none` stops every class: judge no further.
            guard state.status == .running || state.status == .paused else { return }
            let result = judge(cls, input: input, byID: byID)
            state.classes[cls]?.latestGate = result
            switch result.verdict {
            case .waiting:
                continue
            case .passed:
                state.classes[cls]?.passedWave = state.currentWave
                state.gateHistory.append(result)
                out.append(.gateEvaluated(result))
                out.append(.audit("rollout \(spec.rolloutID): \(result.summary)"))
            case .failed:
                state.gateHistory.append(result)
                out.append(.gateEvaluated(result))
                out.append(.audit("rollout \(spec.rolloutID): \(result.summary)"))
                classFailed(cls, result: result, now: input.nowMs, &out)
            }
        }
    }

    /// Install outcomes of the class's devices in the waves so far that are still in the target.
    func tally(_ cls: String, byID: [String: RolloutDevice]) -> InstallTally {
        guard let digest = spec.digest(forClass: cls) else { return InstallTally() }
        var t = InstallTally()
        for (id, a) in assignedDevices(of: cls) where a.wave <= state.currentWave {
            guard let d = byID[id] else { continue }
            Self.classify(d, digest: digest, release: spec.releaseSequence, into: &t)
        }
        return t
    }

    /// Committed on the new digest, failed it (rolled it back by itself, or a failure event
    /// named the release), or still on its way.
    static func classify(_ d: RolloutDevice, digest: String?, release: UInt64, into t: inout InstallTally) {
        if let r = d.running, r.artifactDigest == digest {
            if r.status == .committed { t.committed += 1 } else { t.pending += 1 }
        } else if let rb = d.lastRollback, rb.releaseSequence == release || rb.artifactDigest == digest {
            t.failed += 1
        } else if d.lastFailedReleaseSequence == release {
            t.failed += 1
        } else {
            t.pending += 1
        }
    }

    /// One judgement; also starts the class's soak once enough devices committed.
    mutating func judge(_ cls: String, input: RolloutInput, byID: [String: RolloutDevice]) -> GateResult {
        let now = input.nowMs
        let gate = spec.gate
        let wave = state.currentWave
        guard var progress = state.classes[cls], let variant = spec.variants[cls] else {
            return GateResult(
                wave: wave, hardwareClass: cls, evaluatedAtMs: now, verdict: .waiting, checks: [], summary: "\(cls): no variant")
        }
        defer { state.classes[cls] = progress }
        let t = tally(cls, byID: byID)
        let required = max(1, min(gate.minDevicesReporting, t.total))
        let install = Self.installCheck(t, minRate: gate.minInstallSuccessRate)
        let label = "wave \(wave + 1) gate of \(cls)"
        func result(_ verdict: GateResult.Verdict, _ checks: [GateCheck], _ why: String) -> GateResult {
            GateResult(wave: wave, hardwareClass: cls, evaluatedAtMs: now, verdict: verdict, checks: checks, summary: "\(label) \(why)")
        }
        if install.outcome == .failed {
            return result(.failed, [install], "failed: \(install.detail)")
        }
        if progress.soakStartedAtMs == nil, t.committed >= required {
            progress.soakStartedAtMs = now
        }
        let timedOut = state.status == .running && now >= progress.gateDeadlineMs
        guard let soakStart = progress.soakStartedAtMs, now >= soakStart + spec.soakMs else {
            let reporting = GateComparison.devicesReporting(
                reporting: input.metrics[ReleaseClassKey(hardwareClass: cls, artifactDigest: variant.artifactDigest)]?.devicesReporting
                    ?? 0, required: required)
            let checks = [reporting, install]
            if timedOut {
                return result(
                    .failed, Self.timedOut(checks),
                    "failed: timed out after \(gate.gateTimeoutMs) ms with \(t.committed) of \(required) required devices committed")
            }
            let why =
                progress.soakStartedAtMs.map { "soaking until \($0 + spec.soakMs)" }
                ?? "waits for installs: \(t.committed) of \(required) committed"
            return result(.waiting, checks, why)
        }
        let new = input.metrics[ReleaseClassKey(hardwareClass: cls, artifactDigest: variant.artifactDigest)]
        let base = spec.baselines[cls].flatMap { input.metrics[ReleaseClassKey(hardwareClass: cls, artifactDigest: $0.artifactDigest)] }
        let checks = [
            GateComparison.devicesReporting(reporting: new?.devicesReporting ?? 0, required: required),
            install,
            GateComparison.latencyP95(
                measured: new?.latencyP95Us.map { Double($0) }, baseline: base?.latencyP95Us.map { Double($0) },
                maxRatio: gate.maxLatencyP95Ratio, ceiling: gate.maxLatencyP95Us, samples: new?.inferences ?? 0,
                minSamples: gate.minLatencySamples),
            GateComparison.floor(
                .accuracy, measured: new?.meanAccuracy, baseline: base?.meanAccuracy, maxDrop: gate.maxAccuracyDrop, floor: gate.minAccuracy
            ),
            GateComparison.floor(
                .agreement, measured: new?.meanAgreement, baseline: base?.meanAgreement, maxDrop: gate.maxAgreementDrop,
                floor: gate.minAgreement),
            GateComparison.errorRate(measured: new?.errorRate, maxRate: gate.maxErrorRate),
        ]
        // Too few reporters: their numbers decide nothing yet, good or bad.
        if checks[0].outcome == .passed, let failed = checks.first(where: { $0.outcome == .failed }) {
            return result(.failed, checks, "failed: \(failed.detail)")
        }
        if checks.allSatisfy(\.passed) {
            return result(.passed, checks, "passed (\(t.committed) committed, \(new?.devicesReporting ?? 0) reporting)")
        }
        if timedOut {
            let open = checks.filter { $0.outcome == .inconclusive }.map(\.detail).joined(separator: "; ")
            return result(
                .failed, Self.timedOut(checks), "failed: undecided after the \(gate.gateTimeoutMs) ms gate timeout: \(open)")
        }
        let open = checks.filter { !$0.passed }.map(\.metric.rawValue).joined(separator: ", ")
        return result(.waiting, checks, "waits for: \(open)")
    }

    /// Decided failure as soon as even the pending devices committing could not lift the rate
    /// to the minimum (a canary that rolled itself back fails the gate at once); a pass needs
    /// the settled rate to reach it; otherwise it waits.
    static func installCheck(_ t: InstallTally, minRate: Double) -> GateCheck {
        guard t.total > 0 else {
            return GateCheck(
                metric: .installSuccessRate, measured: nil, baseline: nil, threshold: minRate, outcome: .inconclusive,
                detail: "no device of the class is in the target")
        }
        let best = Double(t.committed + t.pending) / Double(t.total)
        var check = GateComparison.installSuccessRate(committed: t.committed, failed: t.failed, minRate: minRate)
        if !GateComparison.atLeast(best, minRate) {
            check.outcome = .failed
            check.detail += "; even if the \(t.pending) pending devices commit, at most \(GateComparison.percent(best))"
        } else if check.outcome == .failed {
            check.outcome = .inconclusive
            check.detail += "; \(t.pending) pending devices may still lift it"
        }
        return check
    }

    /// At the deadline, what was still undecided counts as failed.
    static func timedOut(_ checks: [GateCheck]) -> [GateCheck] {
        checks.map { c in
            guard c.outcome == .inconclusive else { return c }
            var failed = c
            failed.outcome = .failed
            failed.detail = "gate timed out: " + c.detail
            return failed
        }
    }
}
