import Agent
import FleetMQTT
import FleetProtocol
import FleetSimulator
import Foundation
import MQTTTestSupport
import TestSupport
import XCTest

/// Simulated fleets against a real Mosquitto, with a coordinator stand-in pushing signed int8
/// releases.
final class SimulatorFleetTests: SimulatorBrokerTestCase {
    func testFiftyAgentsComeOnlineCommitAReleaseAndReportTelemetry() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let sim = try await makeSimulator(devices: 50, classes: "x86_64-avx2:1,arm64-dotprod:1", rate: 5, name: "fifty")
        let devices = await sim.devices
        XCTAssertEqual(devices.count, 50)
        XCTAssertEqual(Dictionary(grouping: devices, by: \.hardwareClass).mapValues(\.count), ["x86_64-avx2": 25, "arm64-dotprod": 25])
        XCTAssertEqual(Set(devices.map(\.deviceID)).count, 50)

        // A plain subscriber that joins now sees 50 retained online messages.
        let late = try await CoordinatorStandIn(port: broker.port)
        let retained = await eventually(60) { late.recorded.withLock { $0.retainedOnline } >= 50 }
        let seen = late.recorded.withLock { $0.online }
        await late.close()
        XCTAssertTrue(retained, "retained online messages: \(seen.count)")
        XCTAssertEqual(Set(seen.keys), Set(devices.map(\.deviceID)))
        XCTAssertTrue(seen.values.allSatisfy(\.online))
        XCTAssertEqual(seen["sim-0001"]?.hardwareClass, "x86_64-avx2")
        XCTAssertEqual(seen["sim-0050"]?.hardwareClass, "arm64-dotprod")

        let releases = try ["x86_64-avx2", "arm64-dotprod"].reduce(into: [String: SimulatorFixtures.Release]()) {
            $0[$1] = try SimulatorFixtures.release(sequence: 1, hardwareClass: $1)
        }
        try await rollOut(sim, sequence: 1, releases: releases)
        let committed = await eventually(120) {
            devices.allSatisfy {
                c.state($0.deviceID)?.running?.status == .committed && c.state($0.deviceID)?.running?.releaseSequence == 1
            }
        }
        let notCommitted = devices.filter { c.state($0.deviceID)?.running?.status != .committed }.map(\.deviceID)
        XCTAssertTrue(committed, "not committed: \(notCommitted)")
        for d in devices {
            XCTAssertEqual(c.state(d.deviceID)?.running?.artifactDigest, releases[d.hardwareClass]?.descriptor.artifactDigest)
        }
        let summary = await sim.summary()
        XCTAssertEqual(summary.online, 50)
        XCTAssertEqual(summary.rollbacks, 0)
        XCTAssertEqual(summary.cells.filter { $0.release == "1" }.reduce(0) { $0 + $1.devices }, 50)

        // Every device's synthetic workload shows up as a real latency histogram.
        let reported = await eventually(60) {
            let withLatency = Set(
                c.recorded.withLock { $0.telemetry.filter { $0.latencyUs.count > 0 && $0.releaseSequence == 1 } }.map(\.deviceID))
            return withLatency.count == 50
        }
        XCTAssertTrue(reported)
        let sample = try XCTUnwrap(c.recorded.withLock { $0.telemetry.first { $0.latencyUs.count > 0 } })
        XCTAssertEqual(sample.inferences, sample.latencyUs.count)
        XCTAssertGreaterThan(try XCTUnwrap(sample.latencyUs.percentile(0.95)), 0)
        XCTAssertEqual(try XCTUnwrap(sample.validationAccuracy), try XCTUnwrap(releases["x86_64-avx2"]?.int8Accuracy), accuracy: 1)
    }

    /// v1 everywhere; then v2, which is broken on arm64-dotprod and crashes on load on a third
    /// of x86_64-avx2; a third of x86_64-avx2 is slow (×10) on every release.
    func testStagedFaultsSlowBrokenClassAndCrashOnLoad() async throws {
        let c = try XCTUnwrap(coordinator)
        let faults = [
            SimulatedFault(.slow(factor: 10), fraction: 1.0 / 3, hardwareClass: "x86_64-avx2"),
            SimulatedFault(.brokenKernels, hardwareClass: "arm64-dotprod", releases: ["2"]),
            SimulatedFault(.crashOnLoad, fraction: 1.0 / 3, hardwareClass: "x86_64-avx2", releases: ["2"]),
        ]
        let sim = try await makeSimulator(devices: 12, classes: "x86_64-avx2:1,arm64-dotprod:1", faults: faults, name: "faults")
        let devices = await sim.devices
        let x86 = devices.filter { $0.hardwareClass == "x86_64-avx2" }, arm = devices.filter { $0.hardwareClass == "arm64-dotprod" }
        func has(_ d: SimulatedDevice, _ kind: SimulatedFault.Kind) -> Bool { d.faults.contains { $0.kind == kind } }
        let slow = x86.filter { has($0, .slow(factor: 10)) }, crashing = x86.filter { has($0, .crashOnLoad) }
        XCTAssertEqual(slow.count, 2)
        XCTAssertEqual(crashing.count, 2)
        XCTAssertTrue(arm.allSatisfy { has($0, .brokenKernels) })

        // v1: the faults that target v2 do not fire; everyone commits.
        let v1 = try ["x86_64-avx2", "arm64-dotprod"].reduce(into: [String: SimulatorFixtures.Release]()) {
            $0[$1] = try SimulatorFixtures.release(sequence: 1, hardwareClass: $1)
        }
        try await rollOut(sim, sequence: 1, releases: v1)
        let committed = await eventually(120) {
            devices.allSatisfy {
                c.state($0.deviceID)?.running?.status == .committed && c.state($0.deviceID)?.running?.releaseSequence == 1
            }
        }
        XCTAssertTrue(committed, "states: \(devices.map { c.state($0.deviceID)?.phase ?? "-" })")

        // Slow devices measured their validation p95 ×10 (sleeping the extra time): far above
        // the healthy devices of the same class, by more than the noise of a shared machine.
        var healthyP95: [Double] = []
        for d in x86 where !slow.contains(where: { $0 === d }) {
            healthyP95.append(try await XCTUnwrapAsync(await d.agent.lastValidationLatencyP95Ms))
        }
        let median = healthyP95.sorted()[healthyP95.count / 2]
        for d in slow {
            let p95 = try await XCTUnwrapAsync(await d.agent.lastValidationLatencyP95Ms)
            XCTAssertGreaterThan(p95, 3 * median, "\(d.deviceID): slow p95 \(p95) ms vs healthy median \(median) ms")
        }

        // v2: arm64-dotprod fails on accuracy and goes back to v1; the crashing x86 devices
        // roll back after the crash-loop limit; the other x86 devices commit v2.
        let v2 = try ["x86_64-avx2", "arm64-dotprod"].reduce(into: [String: SimulatorFixtures.Release]()) {
            $0[$1] = try SimulatorFixtures.release(sequence: 2, hardwareClass: $1, seed: 12)
        }
        try await rollOut(sim, sequence: 2, releases: v2)
        func rolledBack(_ d: SimulatedDevice) -> DeviceEvent? {
            c.events(d.deviceID).first { $0.kind == .rolledBack && $0.releaseSequence == 2 }
        }
        let goodX86 = x86.filter { d in !crashing.contains { $0 === d } }
        let settled = await eventually(120) {
            arm.allSatisfy { rolledBack($0) != nil && c.state($0.deviceID)?.phase == "idle" }
                && crashing.allSatisfy { rolledBack($0) != nil && c.state($0.deviceID)?.phase == "idle" }
                && goodX86.allSatisfy {
                    c.state($0.deviceID)?.running?.releaseSequence == 2 && c.state($0.deviceID)?.running?.status == .committed
                }
        }
        XCTAssertTrue(
            settled,
            "states: \(devices.map { "\($0.deviceID) \(c.state($0.deviceID)?.phase ?? "-") \(c.state($0.deviceID)?.running?.releaseSequence ?? 0)" })"
        )
        for d in arm {
            let reason = try XCTUnwrap(rolledBack(d)?.reason, d.deviceID)
            XCTAssertEqual(reason.code, .validationFailed)
            XCTAssertEqual(reason.metric, "accuracy")
            XCTAssertLessThan(try XCTUnwrap(reason.measured), try XCTUnwrap(reason.threshold))
            XCTAssertEqual(c.state(d.deviceID)?.running?.releaseSequence, 1, "\(d.deviceID) must run v1 again")
            let serving = await d.agent.servingRelease
            XCTAssertEqual(serving, 1)
        }
        for d in crashing {
            let reason = try XCTUnwrap(rolledBack(d)?.reason, d.deviceID)
            XCTAssertEqual(reason.code, .crashLoop)
            XCTAssertEqual(reason.measured, 3)
            XCTAssertEqual(c.state(d.deviceID)?.running?.releaseSequence, 1)
        }
        for d in goodX86 { XCTAssertNil(rolledBack(d), d.deviceID) }

        let summary = await sim.summary()
        XCTAssertEqual(summary.rollbacks, arm.count + crashing.count)
        XCTAssertEqual(summary.rollbackReasons, ["validationFailed": arm.count, "crashLoop": crashing.count])
        XCTAssertEqual(summary.classes.first { $0.hardwareClass == "arm64-dotprod" }?.rollbacks, arm.count)
        XCTAssertTrue(summary.table.contains("arm64-dotprod"), summary.table)
    }

    func testOfflineDeviceDisappearsAndComesBack() async throws {
        let c = try XCTUnwrap(coordinator)
        let faults = [SimulatedFault(.offline(after: .milliseconds(500), duration: .seconds(3)), fraction: 0.5)]
        let sim = try await makeSimulator(devices: 4, classes: "x86_64-avx2", faults: faults, name: "offline")
        let devices = await sim.devices
        let offline = devices.filter { !$0.faults.isEmpty }
        XCTAssertEqual(offline.count, 2)
        let went = await eventually(20) {
            offline.allSatisfy { d in c.recorded.withLock { r in r.online[d.deviceID]?.online == false } }
        }
        XCTAssertTrue(went, "the broker published the last will of each device that went offline")
        let back = await eventually(30) { offline.allSatisfy(\.isOnline) }
        XCTAssertTrue(back)
        XCTAssertEqual(offline.map(\.droppedConnections), [1, 1])
        XCTAssertTrue(devices.filter { $0.faults.isEmpty }.allSatisfy { $0.droppedConnections == 0 && $0.isOnline })
    }
}

func XCTUnwrapAsync<T>(_ value: T?, file: StaticString = #filePath, line: UInt = #line) async throws -> T {
    try XCTUnwrap(value, file: file, line: line)
}
