import Coordinator
import FleetProtocol
import Foundation
import XCTest

/// The p95 latency gate's sample floor: too few inferences behind a p95 decide nothing (the
/// gate waits), and at the gate timeout the class fails saying how many samples it had.
final class RolloutGateSampleTests: XCTestCase {
    typealias F = RolloutFixture

    func makeHarness(gate: GatePolicy) throws -> RolloutHarness {
        RolloutHarness(engine: try RolloutEngine(spec: F.spec(gate: gate)), fleet: FakeFleet(countA: 100, countB: 40))
    }

    func testTooFewLatencySamplesWaitThenFailAtTheGateTimeout() throws {
        var h = try makeHarness(gate: GatePolicy(minDevicesReporting: 1, gateTimeoutMs: 300_000, minLatencySamples: 100))
        // A's canary ran 40 inferences with a p95 that would fail (1500 > 1000 × 1.2): noise,
        // not judged. B's ran 100, at the floor, and is judged (and passes).
        h.fleet.inferencesPerReporter[F.classA] = 40
        h.fleet.newP95[F.classA] = 1_500
        h.step(advance: 0)
        let start = h.now
        h.step(advance: 10_000)  // commits seen: the soak starts
        h.step(advance: 280_000)
        let a = try XCTUnwrap(h.engine.state.classes[F.classA])
        XCTAssertEqual(a.status, .active)
        let gate = try XCTUnwrap(a.latestGate)
        XCTAssertEqual(gate.verdict, .waiting)
        let latency = try XCTUnwrap(gate.checks.first { $0.metric == .latencyP95Us })
        XCTAssertEqual(latency.outcome, .inconclusive)
        XCTAssertEqual(latency.measured, 1500)
        XCTAssertEqual(latency.threshold, 1200)
        XCTAssertEqual(latency.detail, "not enough latency samples (40 of 100); p95 1500 µs is not judged yet")
        XCTAssertEqual(gate.summary, "wave 1 gate of \(F.classA) waits for: latencyP95Us")
        XCTAssertEqual(h.engine.state.classes[F.classB]?.passedWave, 0, "100 samples reach the floor")
        XCTAssertEqual(h.engine.state.currentWave, 0)

        h.step(advance: start + 300_000 - h.now - 1)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.status, .active)
        h.step(advance: 1)
        let failed = try XCTUnwrap(h.engine.state.classes[F.classA])
        XCTAssertEqual(failed.status, .rolledBack)
        XCTAssertEqual(failed.failedChecks.map(\.metric), [.latencyP95Us])
        XCTAssertEqual(
            failed.failedChecks.first?.detail, "gate timed out: not enough latency samples (40 of 100); p95 1500 µs is not judged yet")
        let result = try XCTUnwrap(h.engine.state.gateHistory.last { $0.hardwareClass == F.classA })
        XCTAssertEqual(result.verdict, .failed)
        XCTAssertEqual(
            result.summary,
            "wave 1 gate of \(F.classA) failed: undecided after the 300000 ms gate timeout: "
                + "not enough latency samples (40 of 100); p95 1500 µs is not judged yet")
        h.runToEnd()
        XCTAssertEqual(h.engine.state.status, .completedWithHaltedClasses)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.status, .done)
    }

    func testOnceTheSamplesReachTheFloorTheP95Decides() throws {
        var h = try makeHarness(gate: GatePolicy(minDevicesReporting: 1, gateTimeoutMs: 600_000, minLatencySamples: 250))
        h.fleet.inferencesPerReporter[F.classA] = 249
        h.fleet.newP95[F.classA] = 1_500
        h.fleet.inferencesPerReporter[F.classB] = 249
        h.step(advance: 0)
        h.step(advance: 10_000)
        h.step(advance: 70_000)
        XCTAssertEqual(h.engine.state.classes[F.classA]?.latestGate?.verdict, .waiting)
        XCTAssertEqual(h.engine.state.classes[F.classB]?.latestGate?.verdict, .waiting, "a good p95 is not a pass either")
        h.fleet.inferencesPerReporter[F.classA] = 250
        h.fleet.inferencesPerReporter[F.classB] = 250
        h.step(advance: 1_000)
        let a = try XCTUnwrap(h.engine.state.classes[F.classA])
        XCTAssertEqual(a.status, .rolledBack)
        XCTAssertEqual(a.failedChecks.first?.detail, "p95 1500 µs > 1200 µs (baseline p95 1000 µs × 1.2)")
        XCTAssertEqual(h.engine.state.classes[F.classB]?.passedWave, 0)
    }

    func testLatencyCheckValues() {
        let few = GateComparison.latencyP95(measured: 900, baseline: 1000, maxRatio: 1.2, ceiling: nil, samples: 99, minSamples: 100)
        XCTAssertEqual(few.outcome, .inconclusive)
        XCTAssertEqual(few.detail, "not enough latency samples (99 of 100); p95 900 µs is not judged yet")
        let enough = GateComparison.latencyP95(measured: 900, baseline: 1000, maxRatio: 1.2, ceiling: nil, samples: 100, minSamples: 100)
        XCTAssertEqual(enough.outcome, .passed)
        let slow = GateComparison.latencyP95(measured: 1300, baseline: 1000, maxRatio: 1.2, ceiling: nil, samples: 100, minSamples: 100)
        XCTAssertEqual(slow.outcome, .failed)
        let noFloor = GateComparison.latencyP95(measured: 1300, baseline: 1000, maxRatio: 1.2, ceiling: nil, samples: 1, minSamples: 0)
        XCTAssertEqual(noFloor.outcome, .failed)
        // Nothing to compare with: skipped, however few the samples.
        let unchecked = GateComparison.latencyP95(measured: 1300, baseline: nil, maxRatio: 1.2, ceiling: nil, samples: 3, minSamples: 100)
        XCTAssertEqual(unchecked.outcome, .skipped)
    }

    func testPolicyDefaultValidationAndOldSpecs() throws {
        XCTAssertEqual(GatePolicy().minLatencySamples, 100)
        var spec = F.spec()
        spec.gate.minLatencySamples = -1
        XCTAssertThrowsError(try spec.validate()) { error in
            XCTAssertTrue("\(error)".contains("gate.minLatencySamples = -1"), "\(error)")
        }
        // A spec stored before the field existed decodes with the default.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(F.spec().gate)) as? [String: Any])
        XCTAssertEqual(object.removeValue(forKey: "minLatencySamples") as? Int, 100)
        let old = try JSONDecoder().decode(GatePolicy.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old, F.spec().gate)
        let custom = GatePolicy(minDevicesReporting: 2, gateTimeoutMs: 1000, minLatencySamples: 7)
        XCTAssertEqual(try JSONDecoder().decode(GatePolicy.self, from: JSONEncoder().encode(custom)), custom)
    }
}
