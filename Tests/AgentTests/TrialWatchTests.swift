import FleetProtocol
import Foundation
import XCTest

@testable import Agent

/// Rollback directives carried by a desired state, cancels and their backoff, the post-commit
/// watchdog and the shadow tally — pure logic, no broker.
final class TrialWatchTests: XCTestCase {
    let config = UpdateConfig(hardwareClass: "x86", cancelBackoffMs: 1000, maxCancelBackoffMs: 3000)
    let r1 = InstalledModel(artifact: artifact(1, digest: digestOld), slot: .a)
    let r2 = InstalledModel(artifact: artifact(2, digest: digestNew), slot: .b)

    func testDirectiveToThePreviousSlotRollsBackWithoutDownload() {
        var m = UpdateStateMachine(config: config, state: UpdateState(phase: .idle, active: r2, previous: r1))
        let directive = RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "incident")
        let a = m.handle(desired(7, r1.artifact, rollback: directive), now: 5)
        let reason = FailureReason(code: .rollbackDirective, detail: "incident")
        XCTAssertEqual(m.state.phase, .rollingBack(leaving: r2, restoring: r1, reason: reason))
        XCTAssertEqual(m.state.lastDesiredSequence, 7)
        XCTAssertEqual(a, [.persist(m.state), .activateSlot(.a), .commitSlot(.a), .eraseSlot(.b), .publishState])
        XCTAssertFalse(a.contains { if case .startDownload = $0 { true } else { false } })
        let done = m.handle(.rollbackFinished, now: 6)
        XCTAssertEqual(m.state.phase, .idle)
        XCTAssertEqual(m.state.active, r1)
        XCTAssertNil(m.state.previous)
        XCTAssertEqual(m.state.lastRollback?.releaseSequence, 2)
        XCTAssertTrue(done.contains(.publishEvent(.rolledBack, releaseSequence: 2, artifactDigest: digestNew, reason: reason)))
    }

    func testDirectiveWhoseTargetIsInNoSlotDownloadsIt() {
        // The previous slot holds release 1, the directive asks for release 0: a download.
        let r0 = artifact(0, digest: digestThird)
        var m = UpdateStateMachine(config: config, state: UpdateState(phase: .idle, active: r2, previous: r1))
        _ = m.handle(desired(7, r0, rollback: RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 0, reason: "x")), now: 0)
        guard case .downloading(let release, _) = m.state.phase else { return XCTFail("\(m.state.phase)") }
        XCTAssertEqual(release.artifact, r0)
        XCTAssertEqual(release.slot, .a)
        // The same digest under another release number is not the previous model.
        var m2 = UpdateStateMachine(config: config, state: UpdateState(phase: .idle, active: r2, previous: r1))
        let relabelled = artifact(1, digest: digestThird)
        _ = m2.handle(
            desired(8, relabelled, rollback: RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "x")), now: 0)
        XCTAssertEqual(m2.state.phase.kind, .downloading)
    }

    func testDirectiveDuringADownloadAbandonsItAndRollsBack() {
        var m = UpdateStateMachine(config: config, state: UpdateState(phase: .idle, active: r2, previous: r1))
        let r3 = artifact(3, digest: digestThird)
        _ = m.handle(desired(1, r3), now: 0)
        let a = m.handle(
            desired(2, r1.artifact, rollback: RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "x")), now: 1)
        XCTAssertEqual(m.state.phase.kind, .rollingBack)
        XCTAssertEqual(Array(a.prefix(2)), [.persist(m.state), .abandonDownload(r3)])
    }

    func testCancelBacksOffThenRetriesWhileStillDesired() {
        var m = UpdateStateMachine(config: config, state: UpdateState(active: r1))
        _ = m.handle(desired(1, r2.artifact), now: 0)
        let cancel = UpdateEvent.cancel(DownloadCancel(hardwareClass: "x86", artifactDigest: digestNew, releaseSequence: 2, reason: "halt"))
        var a = m.handle(cancel, now: 100)
        XCTAssertEqual(m.state.phase, .idle)
        XCTAssertEqual(m.state.canceled?.retryAtMs, 1100)
        XCTAssertTrue(a.contains(.abandonDownload(r2.artifact)))
        XCTAssertEqual(m.handle(.tick, now: 1099), [])
        a = m.handle(.tick, now: 1100)
        XCTAssertEqual(m.lastTransitions, [UpdateTransition(.idle, .tick, .downloading)])
        XCTAssertTrue(a.contains(.startDownload(r2.artifact)))
        guard case .downloading(let release, _) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(release.slot, .b)
        // Canceled again: the wait doubles, then stops at the cap.
        _ = m.handle(cancel, now: 2000)
        XCTAssertEqual(m.state.canceled?.retryAtMs, 4000)
        XCTAssertEqual(m.state.canceled?.cancels, 2)
        _ = m.handle(.tick, now: 4000)
        _ = m.handle(cancel, now: 5000)
        XCTAssertEqual(m.state.canceled?.retryAtMs, 8000, "capped at 3 s")
        // A new desired state ends the retries; so does a verified download.
        _ = m.handle(desired(2, nil), now: 5001)
        XCTAssertNil(m.state.canceled)
        XCTAssertEqual(m.handle(.tick, now: 9000), [])
    }

    func testCanceledReleaseRetriesBesideTheSlotActiveAtRetryTime() {
        // After the cancel a rollback moved the active model to slot b: the retry must not
        // install over it.
        var state = UpdateState(phase: .idle, active: InstalledModel(artifact: artifact(1, digest: digestOld), slot: .b))
        state.canceled = CanceledDownload(
            release: PendingRelease(artifact: artifact(3, digest: digestThird), slot: .b, trial: TrialPolicy()), cancels: 1, retryAtMs: 0)
        var m = UpdateStateMachine(config: config, state: state)
        _ = m.handle(.tick, now: 1)
        guard case .downloading(let release, _) = m.state.phase else { return XCTFail() }
        XCTAssertEqual(release.slot, .a)
    }

    func testWatchdogJudgesErrorRateThenLatencyAfterEnoughRequests() {
        let t = WatchdogThresholds(minInferences: 10, latencyTolerance: 1.5, latencySlackMs: 0.5, maxErrorRate: 0.1)
        var w = PostCommitWatch(baselineP95Ms: 2)
        for _ in 0..<9 { w.record(latencyUs: 10_000) }
        XCTAssertNil(w.regression(t), "9 requests: no verdict yet")
        w.record(latencyUs: 2_000)
        // p95 of 10 samples: 9 are 10 ms; threshold 2 × 1.5 + 0.5 = 3.5 ms.
        let latency = try? XCTUnwrap(w.regression(t))
        XCTAssertEqual(latency?.metric, "latencyP95Ms")
        XCTAssertEqual(latency?.threshold, 3.5)
        XCTAssertEqual(latency?.measured ?? 0, 10, accuracy: 0.1)

        var healthy = PostCommitWatch(baselineP95Ms: 2)
        for _ in 0..<100 { healthy.record(latencyUs: 3_000) }
        XCTAssertNil(healthy.regression(t))
        for _ in 0..<11 { healthy.recordError() }
        // 11 / 111 = 0.099: still under 0.1.
        XCTAssertNil(healthy.regression(t))
        healthy.recordError()
        XCTAssertEqual(healthy.regression(t), CheckFailure(metric: "errorRate", measured: 12.0 / 112, threshold: 0.1))

        // No baseline (restarted in the window): only errors are judged.
        var blind = PostCommitWatch(baselineP95Ms: nil)
        for _ in 0..<50 { blind.record(latencyUs: 1_000_000) }
        XCTAssertNil(blind.regression(t))
    }

    func testShadowTallyFailsOnDisagreementOrSlowTrialAndWaitsForSamples() {
        let shadow = ShadowThresholds(minAgreement: 0.75, minSamples: 4)
        let latency = WatchdogThresholds(latencyTolerance: 2, latencySlackMs: 0)
        var t = ShadowTally()
        t.record(serving: [1], trial: [1], servingUs: 100, trialUs: 100)
        t.record(serving: [2], trial: [0], servingUs: 100, trialUs: 100)
        t.record(serving: [0, 1], trial: [0, 1], servingUs: 100, trialUs: 100)
        XCTAssertEqual(t.compared, 4)
        XCTAssertEqual(t.agreement, 0.75)
        XCTAssertNil(t.failure(shadow, latency: latency))
        t.record(serving: [1], trial: nil, servingUs: 100, trialUs: nil)
        XCTAssertEqual(t.trialErrors, 1)
        XCTAssertEqual(t.failure(shadow, latency: latency), CheckFailure(metric: "shadowAgreement", measured: 0.6, threshold: 0.75))

        var slow = ShadowTally()
        for _ in 0..<4 { slow.record(serving: [1], trial: [1], servingUs: 1_000, trialUs: 5_000) }
        let f = slow.failure(shadow, latency: latency)
        XCTAssertEqual(f?.metric, "shadowLatencyP95Ms")
        XCTAssertEqual(f?.threshold ?? 0, 2, accuracy: 0.02)
        XCTAssertEqual(f?.measured ?? 0, 5, accuracy: 0.05)

        var few = ShadowTally()
        few.record(serving: [1], trial: [0], servingUs: 1, trialUs: 1)
        XCTAssertNil(few.failure(shadow, latency: latency), "1 sample < minSamples: not judged")
    }

    func testWatchdogAndShadowConfigDefaultsAndValidation() throws {
        let partial = try JSONDecoder().decode(WatchdogThresholds.self, from: Data(#"{"maxErrorRate": 0.2}"#.utf8))
        XCTAssertEqual(partial, WatchdogThresholds(maxErrorRate: 0.2))
        let shadow = try JSONDecoder().decode(ShadowThresholds.self, from: Data("{}".utf8))
        XCTAssertEqual(shadow, ShadowThresholds())
        XCTAssertThrowsError(try WatchdogThresholds(latencyTolerance: 0.5).validate()) { error in
            XCTAssertTrue("\(error)".contains("watchdog.latencyTolerance"), "\(error)")
        }
        XCTAssertThrowsError(try ShadowThresholds(minAgreement: 1.5).validate())
        XCTAssertEqual(config.cancelBackoff(cancels: 1), 1000)
        XCTAssertEqual(config.cancelBackoff(cancels: 2), 2000)
        XCTAssertEqual(config.cancelBackoff(cancels: 40), 3000)
    }
}
