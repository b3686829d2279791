import Coordinator
import FleetProtocol
import Foundation
import XCTest

final class RolloutControlTests: XCTestCase {
    typealias F = RolloutFixture

    func makeHarness(countA: Int = 100, countB: Int = 40) throws -> RolloutHarness {
        RolloutHarness(engine: try RolloutEngine(spec: F.spec()), fleet: FakeFleet(countA: countA, countB: countB))
    }

    func testLateDeviceJoinsTheCurrentWaveOfItsClass() throws {
        var h = try makeHarness()
        h.step(advance: 0)
        h.step()
        h.step(advance: 60_000)  // wave 0 passes: wave 1 starts
        XCTAssertEqual(h.engine.state.currentWave, 1)
        h.fleet.add("a-late", F.classA)
        let actions = h.step()
        XCTAssertTrue(
            actions.contains(
                .setDesired(deviceID: "a-late", artifact: F.variants[F.classA]!, trial: h.engine.spec.trial, rolloutID: "ro-1")))
        let assignment = try XCTUnwrap(h.engine.state.assignments["a-late"])
        XCTAssertEqual(assignment.wave, 1)
        XCTAssertTrue(assignment.joinedLate)
        // No second chunk publication for the same wave: the device asks for chunks itself.
        XCTAssertFalse(actions.contains { if case .publishChunks = $0 { true } else { false } })
        // A device of a class never seen before gets a wave of its own share (at least one).
        h.fleet.add("c-0", "riscv-v")
        let c = h.step()
        XCTAssertFalse(c.contains { if case .setDesired(let id, _, _, _) = $0 { id == "c-0" } else { false } })
        XCTAssertTrue(
            c.contains(
                .audit(
                    "rollout ro-1: 1 matching devices of class riscv-v are left alone: the release has no variant for that class (build one and start another rollout)"
                )))
        XCTAssertNil(h.engine.state.classes["riscv-v"])
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completed)
        XCTAssertEqual(h.fleet.running("a-late"), F.variants[F.classA]?.artifactDigest)
    }

    func testDevicesAppearingOnlyAfterStartStillGetACanaryWave() throws {
        var h = try makeHarness(countA: 0, countB: 0)
        h.step(advance: 0)
        XCTAssertTrue(h.engine.state.classes.isEmpty)
        XCTAssertEqual(h.engine.state.status, .running)
        for i in 0..<50 { h.fleet.add("a-\(i)", F.classA) }
        h.step()
        XCTAssertEqual(h.engine.state.assignments.count, 1, "1% of 50 → 1 canary, not all 50")
        XCTAssertEqual(h.engine.state.waiting.count, 49)
    }

    func testPauseStopsAdvancingAndResumeContinues() throws {
        var h = try makeHarness()
        h.step(advance: 0)
        h.step(commands: [RolloutCommand(.pause, by: "alice")])
        XCTAssertEqual(h.engine.state.status, .paused)
        h.fleet.add("a-late", F.classA)
        for _ in 0..<20 { h.step(advance: 60_000) }
        XCTAssertEqual(h.engine.state.currentWave, 0, "no wave while paused")
        XCTAssertEqual(h.engine.state.classes[F.classA]?.passedWave, 0, "gates are still judged while paused")
        XCTAssertNil(h.engine.state.assignments["a-late"], "no device joins while paused")
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .active, "a pause never times a gate out")
        let refused = h.step(commands: [RolloutCommand(.pause, by: "bob")])
        XCTAssertTrue(refused.contains(.audit("rollout ro-1: bob asked to pause; refused: cannot pause: the rollout is paused")))
        let resumed = h.step(commands: [RolloutCommand(.resume, by: "alice")])
        XCTAssertTrue(resumed.contains(.statusChanged(from: .paused, to: .running)))
        XCTAssertEqual(h.engine.state.currentWave, 1)
        XCTAssertNotNil(h.engine.state.assignments["a-late"])
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completed)
    }

    func testAbortCancelsDownloadsAndRollsNothingBack() throws {
        var h = try makeHarness()
        h.step(advance: 0)
        let actions = h.step(commands: [RolloutCommand(.abort, by: "alice")])
        XCTAssertEqual(h.engine.state.status, .aborted)
        let cancels = actions.compactMap { a -> String? in
            if case .cancelDownloads(let cls, _, let seq, let reason) = a { "\(cls) \(seq) \(reason)" } else { nil }
        }
        XCTAssertEqual(cancels, ["arm-dot 7 rollout aborted by alice", "x86-avx2 7 rollout aborted by alice"])
        XCTAssertTrue(h.rollbacks().isEmpty)
        XCTAssertTrue(h.engine.state.classes.values.allSatisfy { $0.status == .halted })
        XCTAssertNotNil(h.engine.state.finishedAtMs)
        let before = h.log.count
        for _ in 0..<5 { h.step(advance: 60_000) }
        XCTAssertEqual(h.log.count, before, "an aborted rollout does nothing more")
        XCTAssertEqual(h.engine.refusal(of: RolloutCommand(.resume, by: "x")), "cannot resume: the rollout is aborted, not paused")
        // It can still be rolled back by hand.
        h.step(commands: [RolloutCommand(.rollBack(hardwareClass: nil), by: "alice")])
        XCTAssertEqual(h.engine.state.status, .rolledBack)
        XCTAssertEqual(h.rollbacks().count, 2)
    }

    func testManualRollbackOfOneClassThenAll() throws {
        var h = try makeHarness()
        h.step(advance: 0)
        h.step()
        h.step(advance: 60_000)  // wave 1: 10 A, 4 B
        let b = h.step(commands: [RolloutCommand(.rollBack(hardwareClass: F.classB), by: "carol")])
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .rolledBack)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.stopReason, "manual rollback by carol")
        XCTAssertEqual(h.rollbacks().count, 4)
        XCTAssertTrue(b.contains(.audit("rollout ro-1: carol asked to roll back class arm-dot")))
        XCTAssertEqual(h.engine.state.status, .running)
        let unknown = h.step(commands: [RolloutCommand(.rollBack(hardwareClass: "nope"), by: "carol")])
        XCTAssertTrue(
            unknown.contains(
                .audit(
                    "rollout ro-1: carol asked to roll back class nope; refused: cannot roll back class 'nope': it has no device in this rollout (classes: arm-dot, x86-avx2)"
                )))
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completedWithHaltedClasses)
        h.step(commands: [RolloutCommand(.rollBack(hardwareClass: nil), by: "carol")])
        XCTAssertEqual(h.engine.state.status, .rolledBack)
        XCTAssertEqual(h.rollbacks().count, 104, "each device sent back exactly once")
        XCTAssertEqual(Set(h.rollbacks()).count, 104)
        XCTAssertTrue(h.fleet.devices.values.allSatisfy { $0.running?.releaseSequence == 6 })
    }

    func testGateFailureWhilePausedStillRollsBack() throws {
        var h = try makeHarness()
        h.fleet.newAccuracy[F.classB] = 0.5
        h.step(advance: 0)
        h.step(commands: [RolloutCommand(.pause, by: "alice")])
        h.step(advance: 60_000)
        XCTAssertEqual(h.engine.state.status, .paused)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .rolledBack)
        XCTAssertEqual(h.rollbacks().count, 1)
        XCTAssertEqual(h.engine.state.currentWave, 0)
    }

    func testFailureEventOfTheReleaseCountsAsFailedInstall() throws {
        var h = try makeHarness(countA: 3, countB: 0)
        h.fleet.devices = h.fleet.devices.mapValues { d in
            var d = d
            d.online = false  // never installs
            return d
        }
        h.step(advance: 0)
        let canary = try XCTUnwrap(h.engine.state.assignments.keys.first)
        h.fleet.devices[canary]?.lastFailedReleaseSequence = F.newRelease
        h.fleet.devices[canary]?.phase = "failed"
        h.step(advance: 1_000)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .rolledBack)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.failedChecks.first?.metric, .installSuccessRate)
        XCTAssertEqual(h.engine.state.status, .rolledBack, "its only class failed")
    }

    func testMetricsQueriesAskForTheWaveWindowAndTheBaseline() throws {
        var h = try makeHarness(countA: 10, countB: 0)
        XCTAssertTrue(h.engine.metricsQueries.isEmpty)
        h.step(advance: 0)
        let start = h.now
        XCTAssertEqual(
            h.engine.metricsQueries,
            [
                MetricsQuery(
                    key: ReleaseClassKey(hardwareClass: F.classA, artifactDigest: F.variants[F.classA]?.artifactDigest ?? ""),
                    sinceMs: start, isBaseline: false),
                MetricsQuery(
                    key: ReleaseClassKey(hardwareClass: F.classA, artifactDigest: F.baselines[F.classA]?.artifactDigest ?? ""),
                    sinceMs: nil, isBaseline: true),
            ])
    }

    func testProgressCountsPerClassAndWave() throws {
        var h = try makeHarness(countA: 100, countB: 40)
        let plan = try RolloutEngine.plan(spec: h.engine.spec, devices: Array(h.fleet.devices.values))
        let rejecting = try XCTUnwrap(plan.waves[1].devices[F.classA]?.first)
        h.fleet.rejecting = [rejecting]
        h.step(advance: 0)
        h.step()
        h.step(advance: 60_000)  // wave 1 issued; one of A's devices rejects it
        let gone = try XCTUnwrap(plan.waves[1].devices[F.classA]?.last)
        h.fleet.devices[gone] = nil  // left the target
        let rows = h.engine.progress(devices: Array(h.fleet.devices.values)).rows
        XCTAssertEqual(
            rows.map { "\($0.hardwareClass) w\($0.wave) \($0.targeted)/\($0.updated)/\($0.failed)/\($0.missing)/\($0.pending)" },
            [
                "arm-dot w0 1/1/0/0/0", "arm-dot w1 3/3/0/0/0", "x86-avx2 w0 1/1/0/0/0", "x86-avx2 w1 9/7/1/1/0",
            ])
    }

    func testCodableRoundTripMidRolloutGivesIdenticalNextActions() throws {
        var h = try makeHarness()
        h.fleet.newP95[F.classB] = 1_500
        h.step(advance: 0)
        h.step()
        h.step(advance: 60_000)  // B rolled back, A in wave 1
        h.fleet.add("a-late", F.classA)
        // A step whose actions were never acknowledged (the coordinator died before them).
        h.now += 10_000
        let lost = h.engine.step(h.fleet.input(now: h.now, queries: h.engine.metricsQueries))
        XCTAssertFalse(lost.isEmpty)
        let data = try JSONEncoder().encode(h.engine)
        var restored = try JSONDecoder().decode(RolloutEngine.self, from: data)
        XCTAssertEqual(restored, h.engine)
        XCTAssertEqual(restored.pendingActions, lost, "what was decided but not done is not forgotten")
        restored.acknowledge(through: lost.last?.id ?? 0)
        h.engine.acknowledge(through: lost.last?.id ?? 0)
        h.fleet.apply(lost, now: h.now)
        for _ in 0..<40 {
            h.now += 30_000
            let input = h.fleet.input(now: h.now, queries: h.engine.metricsQueries)
            XCTAssertEqual(restored.metricsQueries, h.engine.metricsQueries)
            let a = h.engine.step(input)
            let b = restored.step(input)
            XCTAssertEqual(a, b)
            h.fleet.apply(a, now: h.now)
            if let last = a.last {
                h.engine.acknowledge(through: last.id)
                restored.acknowledge(through: last.id)
            }
            // And a fresh round trip at every step keeps agreeing.
            restored = try JSONDecoder().decode(RolloutEngine.self, from: JSONEncoder().encode(restored))
        }
        XCTAssertEqual(restored.state.status, .completedWithHaltedClasses)
        XCTAssertEqual(restored, h.engine)
    }

    func testStoredRolloutWithInvalidSpecIsRefusedOnDecode() throws {
        let engine = try RolloutEngine(spec: F.spec())
        var json = try XCTUnwrap(String(data: JSONEncoder().encode(engine), encoding: .utf8))
        json = json.replacingOccurrences(of: "\"soakMs\":60000", with: "\"soakMs\":-5")
        XCTAssertThrowsError(try JSONDecoder().decode(RolloutEngine.self, from: Data(json.utf8))) { error in
            XCTAssertTrue("\(error)".contains("soakMs is -5; use 0 or more milliseconds"), "\(error)")
        }
    }

    func testInputOrderDoesNotChangeActions() throws {
        let spec = F.spec()
        var one = try RolloutEngine(spec: spec)
        var two = try RolloutEngine(spec: spec)
        let fleet = FakeFleet(countA: 30, countB: 12)
        let input = fleet.input(now: 5, queries: [])
        var reversed = input
        reversed.devices.reverse()
        XCTAssertEqual(one.step(input), two.step(reversed))
    }
}
