import Coordinator
import FleetProtocol
import XCTest

final class RolloutEngineTests: XCTestCase {
    typealias F = RolloutFixture

    func makeHarness(
        countA: Int = 100, countB: Int = 40, policy: RollbackPolicy = .failingClass,
        gate: GatePolicy = GatePolicy(minDevicesReporting: 1, gateTimeoutMs: 600_000)
    ) throws -> RolloutHarness {
        RolloutHarness(
            engine: try RolloutEngine(spec: F.spec(policy: policy, gate: gate)), fleet: FakeFleet(countA: countA, countB: countB))
    }

    func testFullFourWaveRolloutAcrossTwoClassesReachesEveryDevice() throws {
        var h = try makeHarness()
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completed)
        XCTAssertEqual(h.engine.state.currentWave, 3)
        for (id, _) in h.fleet.devices {
            let cls = h.fleet.devices[id]?.hardwareClass ?? ""
            XCTAssertEqual(h.fleet.running(id), F.variants[cls]?.artifactDigest, id)
        }
        // Each device got exactly one desired state.
        XCTAssertEqual(h.desiredTargets().count, 140)
        XCTAssertEqual(Set(h.desiredTargets()).count, 140)
        // Waves add 1, 9, 40, 50 devices of A (100) and 1, 3, 16, 20 of B (40).
        for (cls, expected) in [(F.classA, [1, 9, 40, 50]), (F.classB, [1, 3, 16, 20])] {
            let perWave = (0..<4).map { k in h.engine.state.assignments.values.filter { $0.hardwareClass == cls && $0.wave == k }.count }
            XCTAssertEqual(perWave, expected, cls)
        }
        // Chunks published once per class and wave; four passed gates per class, in wave order.
        let publishes = h.log.compactMap { a -> String? in
            if case .publishChunks(let cls, _, let wave) = a { "\(cls):\(wave)" } else { nil }
        }
        XCTAssertEqual(
            publishes.sorted(),
            ["arm-dot:0", "arm-dot:1", "arm-dot:2", "arm-dot:3", "x86-avx2:0", "x86-avx2:1", "x86-avx2:2", "x86-avx2:3"])
        XCTAssertEqual(
            h.engine.state.gateHistory.map { "\($0.hardwareClass):\($0.wave):\($0.verdict.rawValue)" }.sorted(),
            [
                "arm-dot:0:passed", "arm-dot:1:passed", "arm-dot:2:passed", "arm-dot:3:passed",
                "x86-avx2:0:passed", "x86-avx2:1:passed", "x86-avx2:2:passed", "x86-avx2:3:passed",
            ])
        XCTAssertTrue(h.engine.state.classes.values.allSatisfy { $0.status == .done })
        XCTAssertTrue(h.rollbacks().isEmpty)
        XCTAssertTrue(h.engine.pendingActions.isEmpty)
        let changes = h.log.compactMap { a -> String? in
            if case .statusChanged(let f, let t) = a { "\(f.rawValue)>\(t.rawValue)" } else { nil }
        }
        XCTAssertEqual(changes, ["planned>running", "running>completed"])
    }

    func testWaveDoesNotAdvanceBeforeSoak() throws {
        var h = try makeHarness()
        h.step(advance: 0)  // wave 0 issued; the fleet installs after the step
        h.step(advance: 59_000)  // the engine sees the commits: the soak starts now
        XCTAssertEqual(h.engine.state.currentWave, 0)
        let soakStart = try XCTUnwrap(h.engine.state.classes[F.classA]?.soakStartedAtMs)
        h.step(advance: 59_999)
        XCTAssertEqual(h.engine.state.currentWave, 0, "soak of 60 s not over")
        XCTAssertEqual(h.now - soakStart, 59_999)
        h.step(advance: 1)
        XCTAssertEqual(h.engine.state.currentWave, 1)
        XCTAssertEqual(h.engine.state.gateHistory.count, 2)
    }

    func testClassSlowerBeyondRatioHaltsAtCanaryAndRollsBackWhileOtherProceeds() throws {
        var h = try makeHarness()
        h.fleet.newP95[F.classB] = 1_500  // baseline 1000 µs, ratio 1.2 → threshold 1200
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completedWithHaltedClasses)
        let b = try XCTUnwrap(h.engine.state.classes[F.classB])
        XCTAssertEqual(b.status, .rolledBack)
        let latency = try XCTUnwrap(b.failedChecks.first)
        XCTAssertEqual(b.failedChecks.count, 1)
        XCTAssertEqual(latency.metric, .latencyP95Us)
        XCTAssertEqual(latency.measured, 1500)
        XCTAssertEqual(latency.baseline, 1000)
        XCTAssertEqual(latency.threshold, 1200)
        XCTAssertFalse(latency.passed)
        XCTAssertEqual(latency.detail, "p95 1500 µs > 1200 µs (baseline p95 1000 µs × 1.2)")
        let failed = try XCTUnwrap(h.engine.state.gateHistory.first { $0.verdict == .failed })
        XCTAssertEqual(failed.wave, 0)
        XCTAssertEqual(failed.hardwareClass, F.classB)
        // Only B's canary got the release, and it went back to release 6 with a directive.
        let bDevices = h.engine.state.assignments.filter { $0.value.hardwareClass == F.classB }
        XCTAssertEqual(bDevices.count, 1)
        let canary = try XCTUnwrap(bDevices.keys.first)
        XCTAssertEqual(h.rollbacks(), [canary])
        let rollback = try XCTUnwrap(h.fleet.received[canary]?.last)
        guard case .rollBack(_, let artifact, let directive, let rolloutID) = rollback else { return XCTFail("\(rollback)") }
        XCTAssertEqual(artifact, F.baselines[F.classB])
        XCTAssertEqual(directive.fromReleaseSequence, 7)
        XCTAssertEqual(directive.toReleaseSequence, 6)
        XCTAssertEqual(rolloutID, "ro-1")
        XCTAssertTrue(directive.reason.contains("wave 1 gate of arm-dot failed"), directive.reason)
        XCTAssertEqual(h.fleet.running(canary), F.baselines[F.classB]?.artifactDigest)
        XCTAssertTrue(
            h.log.contains(
                .cancelDownloads(
                    hardwareClass: F.classB, artifactDigest: F.variants[F.classB]?.artifactDigest ?? "", releaseSequence: 7,
                    reason: directive.reason)))
        // A went all the way.
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .done)
        XCTAssertEqual(h.fleet.devices.values.filter { $0.hardwareClass == F.classA && $0.running?.releaseSequence == 7 }.count, 100)
        // B's other devices were never touched.
        XCTAssertEqual(h.fleet.devices.values.filter { $0.hardwareClass == F.classB && $0.running?.releaseSequence == 6 }.count, 40)
    }

    func testAccuracyDropHaltsClassAtCanary() throws {
        var h = try makeHarness()
        h.fleet.newAccuracy[F.classA] = 0.87  // baseline 0.90, max drop 0.02 → floor 0.88
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completedWithHaltedClasses)
        let a = try XCTUnwrap(h.engine.state.classes[F.classA])
        XCTAssertEqual(a.status, .rolledBack)
        XCTAssertEqual(a.failedChecks.map(\.metric), [.accuracy])
        XCTAssertEqual(a.failedChecks.first?.measured, 0.87)
        XCTAssertEqual(a.failedChecks.first?.baseline, 0.90)
        XCTAssertEqual(try XCTUnwrap(a.failedChecks.first?.threshold), 0.88, accuracy: 1e-12)
        XCTAssertEqual(h.rollbacks().count, 1)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .done)
    }

    func testAccuracyExactlyAtTheDropLimitPasses() throws {
        var h = try makeHarness()
        h.fleet.newAccuracy[F.classA] = 0.88  // 0.90 − 0.02 in binary is 0.8800000000000001
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completed)
    }

    func testPolicyAllRollsBackBothClasses() throws {
        var h = try makeHarness(policy: .all)
        h.fleet.newP95[F.classB] = 1_500
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .rolledBack)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .rolledBack)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .rolledBack)
        XCTAssertEqual(h.rollbacks().count, 2)
        XCTAssertEqual(Set(h.rollbacks()), Set(h.engine.state.assignments.keys))
        let cancels = h.log.filter { if case .cancelDownloads = $0 { true } else { false } }
        XCTAssertEqual(cancels.count, 2)
        XCTAssertTrue(h.fleet.devices.values.allSatisfy { $0.running?.releaseSequence == 6 })
    }

    func testPolicyNoneOnlyHalts() throws {
        var h = try makeHarness(policy: .none)
        h.fleet.newP95[F.classB] = 1_500
        h.runToEnd(limit: 30)
        XCTAssertEqual(h.engine.state.status, .halted)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .halted)
        XCTAssertEqual(h.engine.state.currentWave, 0)
        XCTAssertTrue(h.rollbacks().isEmpty)
        // An operator then rolls everything back.
        h.step(commands: [RolloutCommand(.rollBack(hardwareClass: nil), by: "alice")])
        XCTAssertEqual(h.engine.state.status, .rolledBack)
        XCTAssertEqual(h.rollbacks().count, 2)
    }

    func testSelfRollbackCountsAsFailedInstallAndFailsAtOnce() throws {
        var h = try makeHarness()
        let spec = h.engine.spec
        let canaryB = try XCTUnwrap(
            RolloutEngine.plan(spec: spec, devices: Array(h.fleet.devices.values)).waves[0].devices[F.classB]?.first)
        h.fleet.rejecting = [canaryB]
        h.step(advance: 0)  // issue wave 0; the canary rolls back by itself
        h.step(advance: 1_000)  // long before the soak would end
        let b = try XCTUnwrap(h.engine.state.classes[F.classB])
        XCTAssertEqual(b.status, .rolledBack)
        let install = try XCTUnwrap(b.failedChecks.first)
        XCTAssertEqual(install.metric, .installSuccessRate)
        XCTAssertEqual(install.measured, 0)
        XCTAssertEqual(install.threshold, 0.95)
        XCTAssertEqual(install.detail, "0 committed, 1 failed (rate 0%, minimum 95%); even if the 0 pending devices commit, at most 0%")
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .active)
    }

    func testNotEnoughDevicesReportingWaitsThenFailsAtGateTimeout() throws {
        var h = try makeHarness(gate: GatePolicy(minDevicesReporting: 1, gateTimeoutMs: 300_000))
        let plan = try RolloutEngine.plan(spec: h.engine.spec, devices: Array(h.fleet.devices.values))
        let canaryA = try XCTUnwrap(plan.waves[0].devices[F.classA]?.first)
        h.fleet.silent = [canaryA]  // installs, never reports telemetry
        h.step(advance: 0)
        let start = h.now
        h.step(advance: 10_000)  // commits seen: soak starts
        // Past the soak, before the deadline: waiting, not failed.
        h.step(advance: 280_000)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .active)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.latestGate?.verdict, .waiting)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.passedWave, 0)
        XCTAssertEqual(h.engine.state.currentWave, 0, "wave 1 waits for every active class")
        h.step(advance: start + 300_000 - h.now - 1)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .active)
        h.step(advance: 1)
        let a = try XCTUnwrap(h.engine.state.classes[F.classA])
        XCTAssertEqual(a.status, .rolledBack)
        XCTAssertEqual(a.failedChecks.map(\.metric), [.devicesReporting, .latencyP95Us, .accuracy, .agreement])
        XCTAssertEqual(a.failedChecks.first?.detail, "gate timed out: 0 of the 1 devices required reported telemetry for the release")
        // B goes on alone.
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completedWithHaltedClasses)
    }

    func testOfflineCanaryTimesOutAndIsRolledBackOnReconnect() throws {
        var h = try makeHarness(gate: GatePolicy(minDevicesReporting: 1, gateTimeoutMs: 300_000))
        let plan = try RolloutEngine.plan(spec: h.engine.spec, devices: Array(h.fleet.devices.values))
        let canaryB = try XCTUnwrap(plan.waves[0].devices[F.classB]?.first)
        h.fleet.devices[canaryB]?.online = false
        h.step(advance: 0)
        XCTAssertEqual(h.fleet.received[canaryB]?.count, 1, "offline devices are still sent their desired state")
        h.step(advance: 10_000)  // A's canary committed: its soak starts
        h.step(advance: 290_000)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .rolledBack)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.failedChecks.first?.detail.hasPrefix("gate timed out"), true)
        XCTAssertEqual(h.rollbacks(), [canaryB])
        // The retained desired state it finds on reconnect is the rollback.
        guard case .rollBack(_, let artifact, _, _)? = h.fleet.received[canaryB]?.last else { return XCTFail("no rollback") }
        XCTAssertEqual(artifact, F.baselines[F.classB])
        h.fleet.setOnline(canaryB, now: h.now)
        XCTAssertEqual(h.fleet.running(canaryB), F.baselines[F.classB]?.artifactDigest)
    }

    func testClassWithoutBaselineUsesAbsoluteCeilingAndClearsDesiredState() throws {
        var baselines = F.baselines
        baselines[F.classB] = nil
        let spec = F.spec(
            gate: GatePolicy(minDevicesReporting: 1, maxLatencyP95Us: 800, gateTimeoutMs: 600_000), baselines: baselines)
        var h = RolloutHarness(engine: try RolloutEngine(spec: spec), fleet: FakeFleet(countA: 10, countB: 10))
        h.runToEnd()
        let b = try XCTUnwrap(h.engine.state.classes[F.classB])
        XCTAssertEqual(b.status, .rolledBack)
        XCTAssertEqual(b.failedChecks.first?.threshold, 800)
        XCTAssertEqual(b.failedChecks.first?.baseline, nil)
        XCTAssertEqual(b.failedChecks.first?.detail, "p95 950 µs > 800 µs (absolute ceiling (no baseline latency))")
        let cleared = h.log.compactMap { if case .clearDesired(let id, _, _) = $0 { id } else { nil } }
        XCTAssertEqual(cleared.count, 1)
        XCTAssertTrue(h.rollbacks().isEmpty)
        XCTAssertEqual(h.engine.state.status, .completedWithHaltedClasses)
    }
}
