import Agent
import FleetProtocol
import XCTest

let digestOld = String(repeating: "11", count: 32)
let digestNew = String(repeating: "22", count: 32)
let digestThird = String(repeating: "33", count: 32)

func artifact(_ sequence: UInt64, digest: String, hardwareClass: String = "x86", model: String = "m") -> ArtifactDescriptor {
    ArtifactDescriptor(
        modelName: model, modelVersion: "v\(sequence)", releaseSequence: sequence, hardwareClass: hardwareClass,
        transport: TransportDigests(uncompressedSize: 4000, uncompressedSHA256: digest, compressedSize: 3000, compressedSHA256: digest),
        chunkSize: 1024)
}

func desired(_ seq: UInt64, _ a: ArtifactDescriptor?, rollback: RollbackDirective? = nil, watch: Int = 60) -> UpdateEvent {
    .desiredState(
        DesiredState(deviceID: "d1", sequence: seq, issuedAtMs: 0, artifact: a, trial: TrialPolicy(watchSeconds: watch), rollback: rollback)
    )
}

final class UpdateStateMachineTests: XCTestCase {
    let config = UpdateConfig(hardwareClass: "x86", crashLoopLimit: 3, maxDownloadAttempts: 2, stallTimeoutMs: 1000)
    let old = InstalledModel(artifact: artifact(1, digest: digestOld), slot: .a)
    let new = artifact(2, digest: digestNew)

    /// Runs one event and checks the rules every step obeys: state persisted before any side
    /// effect, and the transition is a row of the table.
    @discardableResult
    func run(_ m: inout UpdateStateMachine, _ e: UpdateEvent, now: Int64 = 0, file: StaticString = #filePath, line: UInt = #line)
        -> [UpdateAction]
    {
        let before = m.state
        let actions = m.handle(e, now: now)
        if m.state != before {
            guard case .persist(let s)? = actions.first else {
                XCTFail("state changed without persisting first: \(actions)", file: file, line: line)
                return actions
            }
            XCTAssertEqual(s, m.state, file: file, line: line)
        }
        for t in m.lastTransitions {
            XCTAssertNotNil(UpdateStateMachine.transitions[t], "\(t) is not in the table", file: file, line: line)
        }
        return actions
    }

    func machineAtTrial() -> UpdateStateMachine {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        run(&m, desired(1, new))
        run(&m, .downloadComplete)
        run(&m, .digestVerified)
        run(&m, .installed)
        return m
    }

    func testHappyPath() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        var a = run(&m, desired(1, new), now: 10)
        XCTAssertEqual(m.state.phase.kind, .downloading)
        XCTAssertTrue(a.contains(.startDownload(new)))
        XCTAssertEqual(m.state.lastDesiredSequence, 1)
        run(&m, .chunkStored(storedChunks: 2), now: 20)
        guard case .downloading(let release, let progress) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(release.slot, .b, "installs beside the running slot")
        XCTAssertEqual(progress, DownloadProgress(storedChunks: 2, chunkCount: 3, attempt: 1, lastProgressMs: 20))
        a = run(&m, .downloadComplete)
        XCTAssertEqual(Array(a.dropFirst().prefix(1)), [.verifyDownload(new)])
        a = run(&m, .digestVerified)
        XCTAssertEqual(Array(a.dropFirst()), [.eraseSlot(.b), .installToSlot(.b, new)])
        a = run(&m, .installed)
        XCTAssertEqual(m.state.phase.kind, .trial)
        XCTAssertTrue(a.contains(.loadTrial(.b)))
        a = run(&m, .modelLoaded)
        XCTAssertEqual(Array(a.dropFirst()), [.runValidation(.b, TrialPolicy(watchSeconds: 60))])
        a = run(&m, .validationPassed, now: 1000)
        XCTAssertEqual(m.state.phase, .committed(watchUntilMs: 61_000))
        XCTAssertEqual(m.state.active, InstalledModel(artifact: new, slot: .b))
        XCTAssertEqual(m.state.previous, old, "the old model stays in slot a for a rollback after commit")
        XCTAssertEqual(Array(a.dropFirst().prefix(2)), [.commitSlot(.b), .activateSlot(.b)])
        XCTAssertEqual(run(&m, .tick, now: 60_999), [])
        run(&m, .tick, now: 61_000)
        XCTAssertEqual(m.state.phase, .idle)
    }

    func testRefusals() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: InstalledModel(artifact: new, slot: .b)))
        func refusal(_ actions: [UpdateAction]) -> FailureReason.Code? {
            for case .publishEvent(.desiredStateRefused, _, _, let reason?) in actions { return reason.code }
            return nil
        }
        XCTAssertEqual(refusal(run(&m, desired(5, artifact(1, digest: digestOld)))), .downgradeRefused)
        XCTAssertEqual(m.state.phase, .idle)
        XCTAssertEqual(refusal(run(&m, desired(6, artifact(3, digest: digestOld, hardwareClass: "arm")))), .foreignHardwareClass)
        XCTAssertEqual(refusal(run(&m, desired(6, artifact(3, digest: digestOld)))), .invalidDesiredState, "replayed sequence")
        XCTAssertEqual(refusal(run(&m, desired(7, artifact(2, digest: digestOld)))), .invalidDesiredState, "same release, other bytes")
        XCTAssertEqual(run(&m, desired(8, new)), [.persist(m.state)], "already running: nothing to do")
        // A signed rollback directive permits the downgrade.
        run(
            &m,
            desired(
                9, artifact(1, digest: digestOld), rollback: RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "halt")
            ))
        XCTAssertEqual(m.state.phase.kind, .downloading)
        // A directive for another release pair does not.
        var m2 = UpdateStateMachine(config: config, state: UpdateState(active: InstalledModel(artifact: new, slot: .b)))
        XCTAssertEqual(
            refusal(
                run(
                    &m2,
                    desired(
                        1, artifact(1, digest: digestOld),
                        rollback: RollbackDirective(fromReleaseSequence: 3, toReleaseSequence: 1, reason: "x")))),
            .downgradeRefused)
    }

    func testCancelMidDownload() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        run(&m, desired(1, new))
        XCTAssertEqual(
            run(&m, .cancel(DownloadCancel(hardwareClass: "x86", artifactDigest: digestOld, releaseSequence: 9, reason: "other"))), [])
        let a = run(&m, .cancel(DownloadCancel(hardwareClass: "x86", artifactDigest: digestNew, releaseSequence: 2, reason: "wave halted")))
        XCTAssertEqual(m.state.phase, .idle)
        XCTAssertTrue(a.contains(.abandonDownload(new)))
        XCTAssertEqual(m.state.active, old)
    }

    func testStalledDownloadReRequestsThenFails() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        run(&m, desired(1, new), now: 0)
        XCTAssertEqual(run(&m, .tick, now: 999), [])
        XCTAssertTrue(run(&m, .tick, now: 1000).contains(.requestMissingChunks(new, attempt: 2)))
        let a = run(&m, .tick, now: 2000)
        guard case .failed(let reason) = m.state.phase else { return XCTFail("\(m.state.phase)") }
        XCTAssertEqual(reason.code, .downloadFailed)
        XCTAssertTrue(a.contains(.abandonDownload(new)))
    }

    func testDigestMismatchRetriesThenFails() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        run(&m, desired(1, new))
        run(&m, .downloadComplete)
        XCTAssertTrue(run(&m, .digestMismatch(detail: "x")).contains(.startDownload(new)))
        XCTAssertEqual(m.state.phase.kind, .downloading)
        run(&m, .downloadComplete)
        run(&m, .digestMismatch(detail: "again"))
        XCTAssertEqual(m.state.phase.kind, .failed)
        var m2 = UpdateStateMachine(config: config, state: UpdateState(active: old))
        run(&m2, desired(1, new))
        run(&m2, .downloadFailed(detail: "disk full"))
        XCTAssertEqual(m2.state.phase.kind, .failed)
    }

    func testInstallAndLoadFailures() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        run(&m, desired(1, new))
        run(&m, .downloadComplete)
        run(&m, .digestVerified)
        let a = run(&m, .installFailed(detail: "signature"))
        XCTAssertEqual(m.state.phase.kind, .failed)
        XCTAssertEqual(a[1], .eraseSlot(.b))
        // A later desired state recovers from failed.
        run(&m, desired(2, artifact(3, digest: digestNew)))
        XCTAssertEqual(m.state.phase.kind, .downloading)

        var t = machineAtTrial()
        let b = run(&t, .loadFailed(detail: "unsupported op"))
        XCTAssertEqual(Array(b.dropFirst()), [.activateSlot(.a), .eraseSlot(.b), .publishState])
        run(&t, .rollbackFinished, now: 77)
        XCTAssertEqual(t.state.phase, .idle)
        XCTAssertEqual(t.state.active, old)
        XCTAssertEqual(t.state.lastRollback?.reason.code, .loadFailed)
        XCTAssertEqual(t.state.lastRollback?.atMs, 77)
    }

    func testValidationFailureRollsBackWithMetric() {
        var m = machineAtTrial()
        run(&m, .modelLoaded)
        run(&m, .validationFailed(metric: "accuracy", measured: 0.61, threshold: 0.7))
        guard case .rollingBack(let leaving, let restoring, let reason) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(leaving, InstalledModel(artifact: new, slot: .b))
        XCTAssertEqual(restoring, old)
        XCTAssertEqual(reason.metric, "accuracy")
        XCTAssertEqual(reason.measured, 0.61)
        XCTAssertEqual(reason.threshold, 0.7)
        let a = run(&m, .rollbackFinished)
        XCTAssertTrue(a.contains(.publishEvent(.rolledBack, releaseSequence: 2, artifactDigest: digestNew, reason: reason)))
    }

    func testCrashLoopRollsBackOnTheKthStart() {
        var m = machineAtTrial()
        run(&m, .modelLoaded)
        var a = run(&m, .agentRestarted)  // crash 1
        XCTAssertEqual(m.state.phase.kind, .trial)
        XCTAssertTrue(a.contains(.loadTrial(.b)))
        a = run(&m, .crashDetected(detail: "SIGSEGV"))  // crash 2
        guard case .trial(_, let attempts) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(attempts, 3)
        a = run(&m, .agentRestarted)  // crash 3 = K
        guard case .rollingBack(_, _, let reason) = m.state.phase else { return XCTFail("\(m.state.phase)") }
        XCTAssertEqual(reason.code, .crashLoop)
        XCTAssertFalse(a.contains(.loadTrial(.b)), "the crashing model is not loaded again")
        XCTAssertEqual(
            run(&m, .agentRestarted), [.activateSlot(.a), .eraseSlot(.b), .publishState], "a restart mid-rollback switches again")
    }

    func testRestartInEveryPhaseResumesSafely() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: old))
        XCTAssertEqual(run(&m, .agentRestarted), [.activateSlot(.a), .publishState])
        run(&m, desired(1, new))
        XCTAssertEqual(
            run(&m, .agentRestarted),
            [
                .activateSlot(.a), .resumeDownload(new),
                .publishEvent(.downloadResumed, releaseSequence: new.releaseSequence, artifactDigest: new.artifactDigest, reason: nil),
                .publishState,
            ])
        run(&m, .downloadComplete)
        XCTAssertEqual(run(&m, .agentRestarted), [.activateSlot(.a), .verifyDownload(new), .publishState])
        run(&m, .digestVerified)
        let a = run(&m, .agentRestarted)
        XCTAssertEqual(a, [.activateSlot(.a), .eraseSlot(.b), .installToSlot(.b, new)], "a half-installed slot is never run")
        XCTAssertFalse(a.contains(.loadTrial(.b)))
        run(&m, .installed)
        run(&m, .modelLoaded)
        run(&m, .validationPassed)
        XCTAssertEqual(run(&m, .agentRestarted), [.activateSlot(.b), .publishState])
    }

    func testPersistedStateRoundTripsThroughCodable() throws {
        var m = machineAtTrial()
        run(&m, desired(2, artifact(3, digest: digestOld)))
        let data = try JSONEncoder().encode(m.state)
        let restored = try JSONDecoder().decode(UpdateState.self, from: data)
        XCTAssertEqual(restored, m.state)
        var resumed = UpdateStateMachine(config: config, state: restored)
        XCTAssertEqual(resumed.handle(.agentRestarted, now: 0), m.handle(.agentRestarted, now: 0))
    }

    func testDesiredStateDuringTrialIsDeferredUntilTheFlowRests() {
        var m = machineAtTrial()
        let third = artifact(3, digest: digestOld)
        XCTAssertEqual(run(&m, desired(2, third)), [.persist(m.state)])
        XCTAssertEqual(m.state.phase.kind, .trial)
        run(&m, .modelLoaded)
        let a = run(&m, .validationPassed)
        XCTAssertEqual(m.lastTransitions.map(\.to), [.committed, .downloading])
        XCTAssertTrue(a.contains(.commitSlot(.b)))
        XCTAssertTrue(a.contains(.startDownload(third)))
        guard case .downloading(let release, _) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(release.slot, .a)
        XCTAssertNil(m.state.deferred)
    }

    func testWatchdogAndDirectiveRollbackAfterCommit() {
        var m = machineAtTrial()
        run(&m, .modelLoaded)
        run(&m, .validationPassed)
        XCTAssertEqual(m.state.previous, old)
        run(&m, .watchdogRegression(metric: "latencyP99Us", measured: 9000, threshold: 5000))
        guard case .rollingBack(_, let restoring, let reason) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(restoring, old)
        XCTAssertEqual(reason.code, .watchdogRegression)
        run(&m, .rollbackFinished)
        XCTAssertEqual(m.state.active, old)
        XCTAssertNil(m.state.previous)
        // Nothing left to go back to: a directive is refused.
        run(&m, .rollbackDirective(RollbackDirective(fromReleaseSequence: 1, toReleaseSequence: 0, reason: "x")))
        XCTAssertEqual(m.state.phase, .idle)

        var d = machineAtTrial()
        run(&d, .modelLoaded)
        run(&d, .validationPassed)
        run(&d, .tick, now: 1_000_000)
        run(&d, .rollbackDirective(RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "fleet halt")))
        XCTAssertEqual(d.state.phase.kind, .rollingBack)
    }

    /// Every phase × every event: the code takes only rows of the table, every row is taken by
    /// some (phase, event) sample, and an ignored event changes nothing.
    func testCodeAndTableAgree() {
        let release = PendingRelease(artifact: new, slot: .b, trial: TrialPolicy(watchSeconds: 1))
        let reason = FailureReason(code: .loadFailed, detail: "x")
        let phases: [UpdatePhase] = [
            .idle, .downloading(release, DownloadProgress(storedChunks: 0, chunkCount: 3, attempt: 1, lastProgressMs: 0)),
            .downloading(release, DownloadProgress(storedChunks: 0, chunkCount: 3, attempt: 2, lastProgressMs: 0)),
            .verifying(release, attempt: 1), .verifying(release, attempt: 2), .installing(release),
            .trial(release, loadAttempts: 1), .trial(release, loadAttempts: 3), .validating(release, loadAttempts: 1),
            .validating(release, loadAttempts: 3),
            .committed(watchUntilMs: 5), .committed(watchUntilMs: 1 << 40),
            .rollingBack(leaving: InstalledModel(artifact: new, slot: .b), restoring: old, reason: reason), .failed(reason),
        ]
        let events: [UpdateEvent] = [
            desired(5, new), desired(5, artifact(3, digest: digestNew)), desired(5, nil), desired(1, new),
            desired(5, artifact(9, digest: digestOld, hardwareClass: "arm")),
            desired(
                5, artifact(1, digest: digestOld), rollback: RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "x")),
            .chunkStored(storedChunks: 1), .downloadComplete, .downloadFailed(detail: "x"), .digestVerified, .digestMismatch(detail: "x"),
            .installed, .installFailed(detail: "x"), .modelLoaded, .loadFailed(detail: "x"), .validationPassed,
            .validationFailed(metric: "a", measured: 0, threshold: 1), .agentRestarted, .crashDetected(detail: "x"),
            .cancel(DownloadCancel(hardwareClass: "x86", artifactDigest: digestNew, releaseSequence: 2, reason: "x")),
            .rollbackDirective(RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "x")),
            .rollbackDirective(RollbackDirective(fromReleaseSequence: 1, toReleaseSequence: 0, reason: "x")),
            .watchdogRegression(metric: "a", measured: 1, threshold: 0), .rollbackFinished, .tick,
        ]
        var taken: Set<UpdateTransition> = []
        for phase in phases {
            for active in [old, InstalledModel(artifact: artifact(2, digest: digestThird), slot: .a)] {
                for previous in [nil, InstalledModel(artifact: artifact(1, digest: digestOld), slot: .b)] as [InstalledModel?] {
                    for canceled in [nil, CanceledDownload(release: release, cancels: 1, retryAtMs: 0)] {
                        var state = UpdateState(phase: phase, active: active, previous: previous)
                        state.lastDesiredSequence = 2
                        state.canceled = canceled
                        for event in events {
                            var m = UpdateStateMachine(config: config, state: state)
                            let actions = run(&m, event, now: 10_000)
                            if m.lastTransitions.isEmpty {
                                XCTAssertEqual(actions, [], "\(phase.kind) ignores \(event.kind) but acted")
                                XCTAssertEqual(m.state, state)
                            }
                            taken.formUnion(m.lastTransitions)
                        }
                    }
                }
            }
        }
        let untaken = Set(UpdateStateMachine.transitions.keys).subtracting(taken)
        XCTAssertEqual(untaken, [], "table rows no sample reaches: \(untaken.map(\.description).sorted())")
    }
}
