import Agent
import Coordinator
import FleetProtocol
import Foundation
import XCTest

/// Rollouts end to end: a real broker, the real coordinator service and real agents.
final class ServiceRolloutTests: XCTestCase {
    var harness: ServiceHarness?

    override func tearDown() async throws {
        await harness?.shutdown()
    }

    static let gate = APIGateOptions(minDevices: 1, minSuccessRate: 1, maxP95Ratio: 3, maxAccuracyDrop: 0.05, gateTimeoutSeconds: 60)

    func request(_ version: String, waves: [Double] = [0.3, 1]) -> APIRolloutRequest {
        APIRolloutRequest(modelName: "digits", version: version, target: "", waves: waves, soakSeconds: 1.5, gate: Self.gate)
    }

    /// Six devices, three per class; `faults` by device id.
    func startFleet(_ h: ServiceHarness, faults: [String: FaultInjection] = [:]) async throws {
        for i in 0..<3 {
            try await h.startAgent("x86-\(i)", hardwareClass: "x86_64-avx2", faults: faults["x86-\(i)"] ?? .none)
            try await h.startAgent("arm-\(i)", hardwareClass: "arm64-dotprod", faults: faults["arm-\(i)"] ?? .none)
        }
        let registered = try await h.eventually(30) { try h.store().devices().count == 6 }
        XCTAssertTrue(registered, "devices in the registry: \(h.snapshot())")
    }

    func waitForStatus(_ h: ServiceHarness, _ id: String, in statuses: Set<String>, seconds: Double = 90) async throws -> APIRollout {
        let service = try XCTUnwrap(h.service)
        var last = try await service.rollout(id: id, actor: "tests")
        _ = try await h.eventually(seconds) {
            last = try await service.rollout(id: id, actor: "tests")
            return statuses.contains(last.status)
        }
        return last
    }

    func rollOutV1(_ h: ServiceHarness) async throws {
        _ = try h.addRelease(version: "1")
        let service = try XCTUnwrap(h.service)
        let plan = try await service.planRollout(request("1"), actor: "alice")
        XCTAssertEqual(plan.waves.count, 2)
        XCTAssertEqual(plan.waves[0].classes.map { $0.deviceIDs.count }, [1, 1], "canary: one device per class")
        let started = try await service.startRollout(request("1"), actor: "alice")
        let done = try await waitForStatus(h, started.id, in: ["completed", "completedWithHaltedClasses", "halted", "rolledBack"])
        XCTAssertEqual(done.status, "completed", "v1: \(done.classes.map { "\($0.hardwareClass) \($0.status) \($0.reason ?? "")" })")
        let everyone = try await h.eventually(30) { try h.running().values.allSatisfy { $0 == "1 committed" } }
        XCTAssertTrue(everyone, "after v1: \(h.snapshot())")
    }

    func testFullRolloutThenASlowClassHaltsAtTheCanaryAndRollsBackWhileTheOtherCompletes() async throws {
        let h = try await ServiceHarness()
        harness = h
        try await h.startCoordinator()
        // v2 is ten times slower on the ARM class (a sleep after each run).
        var faults: [String: FaultInjection] = [:]
        for i in 0..<3 { faults["arm-\(i)"] = FaultInjection([.init(.slow(factor: 10), releases: ["2"])]) }
        try await startFleet(h, faults: faults)
        try await rollOutV1(h)

        _ = try h.addRelease(version: "2", seed: 2)
        let service = try XCTUnwrap(h.service)
        let started = try await service.startRollout(request("2"), actor: "alice")
        let end = try await waitForStatus(h, started.id, in: ["completed", "completedWithHaltedClasses", "halted", "rolledBack"])
        XCTAssertEqual(end.status, "completedWithHaltedClasses")
        let arm = try XCTUnwrap(end.classes.first { $0.hardwareClass == "arm64-dotprod" })
        XCTAssertEqual(arm.status, "rolledBack", arm.reason ?? "")
        XCTAssertTrue((arm.reason ?? "").contains("p95"), arm.reason ?? "")
        XCTAssertEqual(end.classes.first { $0.hardwareClass == "x86_64-avx2" }?.status, "done")
        // Only the canary of the slow class got v2, and it was sent back by a signed directive.
        let settled = try await h.eventually(30) {
            let r = try h.running()
            return (0..<3).allSatisfy { r["x86-\($0)"] == "2 committed" && r["arm-\($0)"] == "1 committed" }
        }
        XCTAssertTrue(settled, "after v2: \(h.snapshot())")
        let reverted = try h.store().devices().filter { $0.lastRollback?.reason.code == .rollbackDirective }.map(\.id)
        XCTAssertEqual(reverted.count, 1, "one canary rolled back by directive: \(reverted)")
        XCTAssertTrue(reverted.allSatisfy { $0.hasPrefix("arm-") })
        let audit = try await service.auditLog(APIAuditQuery(limit: 200), actor: "alice")
        XCTAssertTrue(audit.contains { $0.action == "gate.failed" && $0.target.contains("arm64-dotprod") })
        XCTAssertTrue(audit.contains { $0.action == "rollout.start" && $0.actor == "alice" })
    }

    func testAccuracyLossOnOneClassIsCaughtAndARestartedCoordinatorCarriesOn() async throws {
        let h = try await ServiceHarness()
        harness = h
        try await h.startCoordinator()
        var faults: [String: FaultInjection] = [:]
        for i in 0..<3 { faults["arm-\(i)"] = FaultInjection([.init(.brokenKernels, releases: ["2"])]) }
        try await startFleet(h, faults: faults)
        try await rollOutV1(h)

        _ = try h.addRelease(version: "2", seed: 3)
        let started = try await XCTUnwrap(h.service).startRollout(request("2"), actor: "alice")
        // The coordinator dies right after issuing the canary wave; a new one on the same data
        // directory picks the rollout up from the store.
        await h.killCoordinator()
        try await Task.sleep(for: .seconds(1))
        try await h.startCoordinator()
        let end = try await waitForStatus(h, started.id, in: ["completed", "completedWithHaltedClasses", "halted", "rolledBack"])
        XCTAssertEqual(end.status, "completedWithHaltedClasses")
        let arm = try XCTUnwrap(end.classes.first { $0.hardwareClass == "arm64-dotprod" })
        XCTAssertEqual(arm.status, "rolledBack", arm.reason ?? "")
        let settled = try await h.eventually(30) {
            let r = try h.running()
            return (0..<3).allSatisfy { r["x86-\($0)"] == "2 committed" && r["arm-\($0)"] == "1 committed" }
        }
        XCTAssertTrue(settled, "after v2: \(h.snapshot())")
        // The ARM canary refused v2 itself: its validation measured the accuracy drop.
        let selfRollback = try h.store().devices().compactMap(\.lastRollback).filter { $0.reason.code == .validationFailed }
        XCTAssertEqual(selfRollback.count, 1, "\(selfRollback)")
    }

    func testAnAgentOfflineDuringARollbackRevertsWhenItReconnects() async throws {
        let h = try await ServiceHarness()
        harness = h
        let service = try await h.startCoordinator()
        try await startFleet(h)
        try await rollOutV1(h)
        _ = try h.addRelease(version: "2", seed: 4)
        let started = try await service.startRollout(request("2", waves: [1]), actor: "alice")
        let done = try await waitForStatus(h, started.id, in: ["completed"])
        XCTAssertEqual(done.status, "completed")
        let allOnV2 = try await h.eventually(30) { try h.running().values.allSatisfy { $0 == "2 committed" } }
        XCTAssertTrue(allOnV2, "\(h.snapshot())")

        // One device goes offline; the operator rolls everything back meanwhile.
        await h.stopAgent("x86-1")
        let offline = try await h.eventually(10) { try h.store().device("x86-1")?.online == false }
        XCTAssertTrue(offline)
        do {
            _ = try await service.controlRollout(id: started.id, command: .pause, actor: "bob")
            XCTFail("a completed rollout cannot be paused")
        } catch let error as APIError { XCTAssertEqual(error.code, .conflict) }
        _ = try await service.controlRollout(id: started.id, command: .rollback(hardwareClass: nil), actor: "bob")
        let othersBack = try await h.eventually(60) {
            let r = try h.running()
            return r.filter { $0.key != "x86-1" }.values.allSatisfy { $0 == "1 committed" }
        }
        XCTAssertTrue(othersBack, "\(h.snapshot())")
        XCTAssertEqual(try h.running()["x86-1"], "2 committed", "offline: still what it ran")

        // Back online: the retained, signed rollback reaches it.
        try await h.startAgent("x86-1", hardwareClass: "x86_64-avx2")
        let reverted = try await h.eventually(60) { try h.running()["x86-1"] == "1 committed" }
        XCTAssertTrue(reverted, "\(h.snapshot())")
        let audit = try await service.auditLog(APIAuditQuery(limit: 200), actor: "bob")
        XCTAssertTrue(audit.contains { $0.actor == "bob" && $0.action == "rollout.rollback" })
    }
}
