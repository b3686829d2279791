import Agent
import FleetProtocol
import Foundation
import ModelIR
import TestSupport
import XCTest

/// Leaving a release: by signed directive, by the post-commit watchdog, by a failed shadow run.
extension AgentServiceTests {
    /// Publishes `release` and waits until the device reports it committed.
    func commit(_ release: AgentFixtures.Release, sequence: UInt64, trial: TrialPolicy = TrialPolicy(watchSeconds: 0)) async throws {
        let c = try XCTUnwrap(coordinator)
        try await c.publishDesired(sequence: sequence, release: release, trial: trial)
        let r = release.descriptor.releaseSequence
        let committed = await AgentFixtures.eventually {
            c.lastState?.running?.releaseSequence == r && c.lastState?.running?.status == .committed
        }
        XCTAssertTrue(committed, "release \(r) not committed; events: \(c.events.map(\.kind))")
    }

    func testRollbackDirectiveSwitchesToThePreviousSlotOrDownloadsTheTarget() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("directive")
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        let r1 = try AgentFixtures.release(sequence: 1), r2 = try AgentFixtures.release(sequence: 2)
        let r3 = try AgentFixtures.release(sequence: 3)
        try await commit(r1, sequence: 1)
        try await commit(r2, sequence: 2)
        try await commit(r3, sequence: 3)
        let slotOf2 = try XCTUnwrap(c.recorded.withLock { $0.states.last { $0.running?.releaseSequence == 2 } }?.running?.slot)
        let requestsBefore = c.requests.count

        // Release 2 is still in the other slot: back to it without a single chunk.
        try await c.publishDesired(
            sequence: 4, release: r2, rollback: RollbackDirective(fromReleaseSequence: 3, toReleaseSequence: 2, reason: "incident 42"))
        let rolled = await AgentFixtures.eventually { self.event(.rolledBack, release: 3) != nil }
        XCTAssertTrue(rolled, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(event(.rolledBack, release: 3)?.reason)
        XCTAssertEqual(reason.code, .rollbackDirective)
        XCTAssertEqual(reason.detail, "incident 42")
        let settled = await AgentFixtures.eventually {
            c.lastState?.running?.releaseSequence == 2 && c.lastState?.phase == "idle"
        }
        XCTAssertTrue(settled)
        XCTAssertEqual(c.lastState?.running?.status, .committed)
        XCTAssertEqual(c.lastState?.running?.slot, slotOf2)
        XCTAssertEqual(c.lastState?.lastRollback?.releaseSequence, 3)
        XCTAssertEqual(c.requests.count, requestsBefore, "no chunk may be requested for a slot switch")
        let served = await agent.servingRelease
        XCTAssertEqual(served, 2)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("current"), encoding: .utf8), slotOf2.rawValue)
        XCTAssertEqual(Array(try Data(contentsOf: dir.appendingPathComponent("slots/\(slotOf2.rawValue)/model.flt"))), r2.artifact)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("slots/\(slotOf2.other.rawValue)/model.flt").path))

        // Release 1 is in no slot any more: the directive allows downloading it as an install.
        try await c.publishDesired(
            sequence: 5, release: r1, rollback: RollbackDirective(fromReleaseSequence: 2, toReleaseSequence: 1, reason: "further back"))
        let back = await AgentFixtures.eventually {
            c.lastState?.running?.releaseSequence == 1 && c.lastState?.running?.status == .committed
        }
        XCTAssertTrue(back, "events: \(c.events.map(\.kind))")
        XCTAssertTrue(c.requests.dropFirst(requestsBefore).contains { $0.artifactDigest == r1.descriptor.artifactDigest })
        XCTAssertEqual(
            c.uniqueEvents.filter { $0.kind == .committed && $0.releaseSequence == 1 }.count, 2,
            "committed twice: first and after the way back")
        let servedAfter = await agent.servingRelease
        XCTAssertEqual(servedAfter, 1)
    }

    func testWatchdogRollsBackAReleaseWhoseLiveErrorRateRegresses() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("watchdog")
        let watchdog = WatchdogThresholds(minInferences: 10, maxErrorRate: 0.25)
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port, watchdog: watchdog))
        try await commit(try AgentFixtures.release(sequence: 1), sequence: 1)
        try await commit(try AgentFixtures.release(sequence: 2), sequence: 2, trial: TrialPolicy(watchSeconds: 600))

        // 6 good, 4 failing requests (an input the model does not have): 40% errors.
        let good = try XCTUnwrap(AgentFixtures.sampleInput())
        for i in 0..<10 {
            _ = try? await agent.infer(i < 6 ? ["x": good] : ["nope": good])
        }
        let rolled = await AgentFixtures.eventually { self.event(.rolledBack, release: 2) != nil }
        XCTAssertTrue(rolled, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(event(.rolledBack, release: 2)?.reason)
        XCTAssertEqual(reason.code, .watchdogRegression)
        XCTAssertEqual(reason.metric, "errorRate")
        XCTAssertEqual(try XCTUnwrap(reason.measured), 0.4, accuracy: 1e-12)
        XCTAssertEqual(reason.threshold, 0.25)
        let settled = await AgentFixtures.eventually { c.lastState?.running?.releaseSequence == 1 && c.lastState?.phase == "idle" }
        XCTAssertTrue(settled)
        let served = await agent.servingRelease
        XCTAssertEqual(served, 1)
    }

    func testShadowPeriodCommitsAnAgreeingModelAndRollsBackADisagreeingOne() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("shadow")
        let shadow = ShadowThresholds(minAgreement: 0.9, minSamples: 5)
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port, shadow: shadow))
        try await commit(try AgentFixtures.release(sequence: 1), sequence: 1)
        let oldAnswer = try await agent.infer(["x": try XCTUnwrap(AgentFixtures.sampleInput())])

        // Live traffic while the trial runs: answered by the serving model all along.
        func driveTraffic() async throws -> Int {
            var rng = SplitMix64(seed: 9)
            var served = 0
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                let phase = await agent.updateState.phase.kind
                if served > 0 && phase != .validating && phase != .trial { break }
                let x = try Tensor(floats: (0..<4).map { _ in rng.float() }, shape: [1, 4])
                let out = try await agent.infer(["x": x])
                XCTAssertEqual(out["y"]?.shape, [1, 3])
                if phase == .validating { served += 1 }
                try await Task.sleep(for: .milliseconds(20))
            }
            return served
        }

        // Same weights: every top-1 agrees, the trial commits after its shadow period.
        try await c.publishDesired(
            sequence: 2, release: try AgentFixtures.release(sequence: 2), trial: TrialPolicy(shadowSeconds: 2, watchSeconds: 0))
        let entered = await AgentFixtures.eventually { await agent.updateState.phase.kind == .validating }
        XCTAssertTrue(entered)
        _ = try await driveTraffic()
        let committed = await AgentFixtures.eventually {
            c.lastState?.running?.releaseSequence == 2 && c.lastState?.running?.status == .committed
        }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")

        // Every class rotated: the bundle still passes (its labels are the model's own), but
        // no live top-1 agrees with the serving model's.
        let rotated = try AgentFixtures.release(sequence: 3, rotateClasses: true)
        try await c.publishDesired(sequence: 3, release: rotated, trial: TrialPolicy(shadowSeconds: 2, watchSeconds: 0))
        let enteredAgain = await AgentFixtures.eventually { await agent.updateState.phase.kind == .validating }
        XCTAssertTrue(enteredAgain)
        let servedDuringShadow = try await driveTraffic()
        XCTAssertGreaterThanOrEqual(servedDuringShadow, 5)
        let rolled = await AgentFixtures.eventually { self.event(.rolledBack, release: 3) != nil }
        XCTAssertTrue(rolled, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(event(.rolledBack, release: 3)?.reason)
        XCTAssertEqual(reason.code, .validationFailed)
        XCTAssertEqual(reason.metric, "shadowAgreement")
        XCTAssertEqual(reason.measured, 0)
        XCTAssertEqual(reason.threshold, 0.9)
        let settled = await AgentFixtures.eventually { c.lastState?.running?.releaseSequence == 2 && c.lastState?.phase == "idle" }
        XCTAssertTrue(settled)
        let answer = try await agent.infer(["x": try XCTUnwrap(AgentFixtures.sampleInput())])
        XCTAssertEqual(answer["y"], oldAnswer["y"], "release 2 has release 1's weights and serves again")
    }
}
