import Coordinator
import FleetProtocol
import XCTest

final class RolloutSpecTests: XCTestCase {
    typealias F = RolloutFixture

    func testCumulativeCountsRoundUpWithACanary() {
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.01, of: 7, isFirstWave: true), 1)
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.01, of: 100, isFirstWave: true), 1)
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.01, of: 101, isFirstWave: true), 2)
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.1, of: 30, isFirstWave: false), 3, "0.1 × 30 is 3.0000000000000004")
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.1, of: 7, isFirstWave: false), 1)
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.5, of: 7, isFirstWave: false), 4)
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 1.0, of: 7, isFirstWave: false), 7)
        XCTAssertEqual(RolloutEngine.cumulativeCount(fraction: 0.01, of: 0, isFirstWave: true), 0)
    }

    func testOnePercentOfSevenDevicesIsOneCanary() throws {
        let fleet = FakeFleet(countA: 7, countB: 0)
        let plan = try RolloutEngine.plan(spec: F.spec(), devices: Array(fleet.devices.values))
        XCTAssertEqual(plan.waves.map { $0.devices[F.classA]?.count }, [1, 0, 3, 3])
        XCTAssertEqual(plan.waves.map { $0.cumulative[F.classA] }, [1, 1, 4, 7])
        var engine = try RolloutEngine(spec: F.spec())
        let actions = engine.step(fleet.input(now: 0, queries: [])).map(\.action)
        XCTAssertEqual(actions.filter { if case .setDesired = $0 { true } else { false } }.count, 1)
    }

    func testDryRunPlanMatchesWhatTheRolloutDoes() throws {
        var h = RolloutHarness(engine: try RolloutEngine(spec: F.spec()), fleet: FakeFleet(countA: 100, countB: 40))
        let plan = try RolloutEngine.plan(spec: h.engine.spec, devices: Array(h.fleet.devices.values))
        h.runToEnd()
        for wave in plan.waves {
            for (cls, ids) in wave.devices {
                let actual = h.engine.state.assignments.filter { $0.value.hardwareClass == cls && $0.value.wave == wave.index }.keys
                XCTAssertEqual(Set(ids), Set(actual), "wave \(wave.index) \(cls)")
            }
        }
        // The canary order is the stable hash order, different per rollout id.
        let other = try RolloutEngine.plan(spec: F.spec(id: "ro-2"), devices: Array(h.fleet.devices.values))
        XCTAssertNotEqual(plan.waves[1].devices[F.classA], other.waves[1].devices[F.classA])
        XCTAssertEqual(
            RolloutEngine.stableHash(rolloutID: "ro-1", deviceID: "a-0"), RolloutEngine.stableHash(rolloutID: "ro-1", deviceID: "a-0"))
        XCTAssertEqual(RolloutEngine.stableHash(rolloutID: "", deviceID: ""), 0xaf63_bd4c_8601_b7df, "FNV-1a 64 of one NUL byte")
    }

    func testPlanTextListsWavesAndClassesWithoutVariant() throws {
        var fleet = FakeFleet(countA: 3, countB: 0)
        fleet.add("c-1", "riscv-v")
        let plan = try RolloutEngine.plan(spec: F.spec(waves: [0.5, 1.0]), devices: Array(fleet.devices.values))
        let order = plan.waves[0].devices[F.classA] ?? []
        let rest = plan.waves[1].devices[F.classA] ?? []
        XCTAssertEqual(order.count, 2)
        XCTAssertEqual(
            plan.text,
            """
            wave 1 (50%):
              x86-avx2 +2 (2 in all): \(order.joined(separator: " "))
            wave 2 (100%):
              x86-avx2 +1 (3 in all): \(rest.joined(separator: " "))
            no variant for riscv-v: 1 devices left alone

            """)
    }

    func testInvalidSpecsAreRefusedWithEveryProblem() {
        var spec = F.spec(waves: [0.5, 0.1, 0.9])
        spec.soakMs = 600_000
        spec.gate.minInstallSuccessRate = 1.5
        spec.gate.minDevicesReporting = 0
        spec.baselines[F.classA]?.releaseSequence = 9
        spec.variants[F.classB]?.hardwareClass = "other"
        XCTAssertThrowsError(try RolloutEngine(spec: spec)) { error in
            guard let e = error as? RolloutSpecError else { return XCTFail("\(error)") }
            XCTAssertEqual(
                e.problems,
                [
                    "waves [0.5, 0.1, 0.9] must increase strictly (wave 1 is 0.1 after 0.5)",
                    "the last wave is 0.9; it must be 1 (100%) so every device is reached",
                    "variants['arm-dot'] is built for class 'other'",
                    "baselines['x86-avx2'] has releaseSequence 9, not below the rollout's 7; a baseline is an earlier release",
                    "gate.minDevicesReporting = 0; use 1 or more",
                    "gate.minInstallSuccessRate = 1.5 must be within 0...1",
                    "gate.gateTimeoutMs = 600000 is not longer than the soak (600000 ms); the gate could never be judged before it times out",
                ])
            XCTAssertTrue(e.description.hasPrefix("rollout 'ro-1' cannot start: waves [0.5, 0.1, 0.9] must increase"))
        }
    }

    func testMoreInvalidSpecs() {
        func problems(_ edit: (inout RolloutSpec) -> Void) -> [String] {
            var spec = F.spec()
            edit(&spec)
            do {
                _ = try RolloutEngine(spec: spec)
                return []
            } catch { return error.problems }
        }
        XCTAssertEqual(problems { $0.waves = [] }, ["waves is empty; give cumulative fractions ending at 1, e.g. [0.01, 0.1, 0.5, 1.0]"])
        XCTAssertEqual(
            problems { $0.waves = [0, 1] }, ["waves[0] = 0.0 is outside (0, 1]; waves are cumulative fractions of each class's devices"])
        XCTAssertEqual(problems { $0.variants = [:] }, ["no variants; build the release for at least one hardware class"])
        XCTAssertEqual(problems { $0.rolloutID = "a/b" }.count, 1)
        XCTAssertEqual(
            problems { $0.gate.maxLatencyP95Ratio = 0 },
            [
                "gate.maxLatencyP95Ratio = 0.0; use a positive ratio such as 1.2 (20% slower at most)"
            ])
        XCTAssertEqual(
            problems { $0.variants[F.classA]?.artifactDigest = "XYZ" }.first,
            "variants['x86-avx2'] artifactDigest 'XYZ' is not 64 lower-case hex digits")
        XCTAssertEqual(problems { $0.baselines[F.classA] = F.variants[F.classA] }.count, 2, "same sequence and same artifact")
        XCTAssertEqual(problems { _ in }, [])
    }
}
