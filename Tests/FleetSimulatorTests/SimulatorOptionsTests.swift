import Agent
import FleetSimulator
import XCTest

/// The option grammar and the deterministic fault choice, without a broker.
final class SimulatorOptionsTests: XCTestCase {
    func testClassMixSpreadsDevicesByLargestRemainder() throws {
        let mix = try ClassMix.parse("x86_64-avx2:20,x86_64-avx512-vnni:20,arm64-dotprod:20")
        XCTAssertEqual(mix.assign(count: 60).filter { $0 == "arm64-dotprod" }.count, 20)
        let hundred = mix.assign(count: 100)
        XCTAssertEqual(hundred.count, 100)
        XCTAssertEqual(["x86_64-avx2", "x86_64-avx512-vnni", "arm64-dotprod"].map { c in hundred.filter { $0 == c }.count }, [34, 33, 33])
        XCTAssertEqual(try ClassMix.parse("a:3,b").assign(count: 4), ["a", "a", "a", "b"])
        for bad in ["", "a:0", "a:-1", "a:x", "a,a", "a/b:1"] {
            XCTAssertThrowsError(try ClassMix.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("--classes"), "\(error)")
            }
        }
    }

    func testFaultSpecifications() throws {
        XCTAssertEqual(try SimulatedFault.parse("slow:0.1:x3"), SimulatedFault(.slow(factor: 3), fraction: 0.1))
        XCTAssertEqual(
            try SimulatedFault.parse("broken:class=arm64-dotprod,version=2"),
            SimulatedFault(.brokenKernels, hardwareClass: "arm64-dotprod", releases: ["2"]))
        XCTAssertEqual(
            try SimulatedFault.parse("crash:0.05:version=3,version=1.4"),
            SimulatedFault(.crashOnLoad, fraction: 0.05, releases: ["3", "1.4"]))
        XCTAssertEqual(
            try SimulatedFault.parse("flapping:0.2:every=1500ms"), SimulatedFault(.flapping(every: .milliseconds(1500)), fraction: 0.2))
        XCTAssertEqual(
            try SimulatedFault.parse("offline:0.1:after=30s,for=2m"),
            SimulatedFault(.offline(after: .seconds(30), duration: .seconds(120)), fraction: 0.1))
        XCTAssertEqual(
            try SimulatedFault.parse("killMidDownload:0.1"), SimulatedFault(.killMidDownload(at: 0.5, pause: .seconds(2)), fraction: 0.1))
        XCTAssertEqual(
            try SimulatedFault.parse("kill:0.2:at=0.75,pause=500ms,class=arm64-dotprod,version=3"),
            SimulatedFault(
                .killMidDownload(at: 0.75, pause: .milliseconds(500)), fraction: 0.2, hardwareClass: "arm64-dotprod", releases: ["3"]))
        let kill = try SimulatedFault.parse("killMidDownload:0.3:at=0.4:pause=3s:version=2")
        XCTAssertEqual(try SimulatedFault.parse(kill.description), kill)
        let round = try SimulatedFault.parse("slow:0.25:x4:class=x86_64-avx2:version=2")
        XCTAssertEqual(try SimulatedFault.parse(round.description), round)
        for bad in [
            "", "melt", "slow:2", "slow:x0.5", "slow:color=red", "flapping:every=10ms", "offline:version=2", "offline:after=soon",
            "kill:at=0", "kill:at=1.5", "kill:pause=later",
        ] {
            XCTAssertThrowsError(try SimulatedFault.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".contains("--fault"), "\(error)")
            }
        }
    }

    func testKillFaultGoesToTheAgentWithItsReleasesAndTheSimulatorKeepsThePause() throws {
        let classes = ["a", "a", "b", "b"]
        let kill = SimulatedFault(.killMidDownload(at: 0.25, pause: .seconds(4)), hardwareClass: "b", releases: ["2"])
        let plan = FaultPlan(faults: [kill], classes: classes, seed: 1)
        XCTAssertEqual(plan.agentFaults(2), FaultInjection([.init(.killMidDownload(atFraction: 0.25), releases: ["2"])]))
        XCTAssertEqual(plan.killPause(3), .seconds(4))
        XCTAssertEqual(plan.agentFaults(0), .none)
        XCTAssertNil(plan.killPause(0))
        XCTAssertEqual(plan.networkFaults(2), [])
    }

    func testFaultPlanIsDeterministicPerSeedAndRespectsClassAndFraction() throws {
        let classes = Array(repeating: "a", count: 50) + Array(repeating: "b", count: 50)
        let faults = [
            SimulatedFault(.slow(factor: 3), fraction: 0.1), SimulatedFault(.brokenKernels, hardwareClass: "b", releases: ["2"]),
            SimulatedFault(.flapping(every: .seconds(5)), fraction: 0.2, hardwareClass: "a"),
        ]
        let plan = FaultPlan(faults: faults, classes: classes, seed: 9)
        XCTAssertEqual(plan, FaultPlan(faults: faults, classes: classes, seed: 9))
        XCTAssertNotEqual(plan, FaultPlan(faults: faults, classes: classes, seed: 10))
        XCTAssertEqual(plan.faults.filter { $0.contains(faults[0]) }.count, 10)
        XCTAssertEqual(plan.faults.indices.filter { plan.faults[$0].contains(faults[1]) }, Array(50..<100))
        let flapping = plan.faults.indices.filter { plan.faults[$0].contains(faults[2]) }
        XCTAssertEqual(flapping.count, 10)
        XCTAssertTrue(flapping.allSatisfy { $0 < 50 })
        // Agent faults go to the agent (with their release filter), network faults stay in the simulator.
        let b = try XCTUnwrap((50..<100).first { !plan.faults[$0].contains(faults[0]) })
        XCTAssertEqual(plan.agentFaults(b), FaultInjection([.init(.brokenKernels, releases: ["2"])]))
        XCTAssertEqual(plan.networkFaults(b), [])
        XCTAssertEqual(plan.networkFaults(flapping[0]), [.flapping(every: .seconds(5))])
    }

    func testFleetSummaryRendersTableLineAndJSON() throws {
        let summary = try FleetSummaryFixture.make()
        XCTAssertTrue(summary.line.contains("online 5/6"), summary.line)
        XCTAssertTrue(summary.line.contains("x86_64-avx2: 1/committed=3"), summary.line)
        let lines = summary.table.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasPrefix("class"), summary.table)
        XCTAssertTrue(lines.contains { $0.hasPrefix("arm64-dotprod") && $0.contains("2/3") }, summary.table)
        XCTAssertTrue(summary.table.contains("rollbacks by reason: validationFailed 1"), summary.table)
        XCTAssertTrue(summary.line.contains("kills 1 resumed 1"), summary.line)
        XCTAssertTrue(
            summary.table.contains("sim-0005 killed at 52% of release 1 (13/25 chunks), resumed from 13/25, committed (running 1)"),
            summary.table)
        let data = try JSONEncoder().encode(summary)
        XCTAssertEqual(try JSONDecoder().decode(FleetSummary.self, from: data), summary)
    }
}

/// A summary as the JSON status file carries it (the type's fields are filled by the simulator).
enum FleetSummaryFixture {
    static func make() throws -> FleetSummary {
        let json = """
            {"elapsedSeconds": 12.5, "devices": 6, "started": 6, "online": 5, "downloadsInFlight": 1, "rollbacks": 1,
             "rollbackReasons": {"validationFailed": 1}, "droppedConnections": 2, "kills": 1, "resumedDownloads": 1,
             "killedDownloads": [
               {"deviceID": "sim-0005", "releaseSequence": 1, "storedChunks": 13, "chunkCount": 25, "atSeconds": 3.2,
                "resumedFromChunks": 13, "phase": "committed", "runningRelease": "1"}],
             "cells": [
               {"hardwareClass": "x86_64-avx2", "release": "1", "phase": "committed", "devices": 3},
               {"hardwareClass": "arm64-dotprod", "release": "1", "phase": "idle", "devices": 2},
               {"hardwareClass": "arm64-dotprod", "release": "1", "phase": "downloading", "devices": 1}],
             "classes": [
               {"hardwareClass": "x86_64-avx2", "devices": 3, "online": 3, "downloading": 0, "rollbacks": 0},
               {"hardwareClass": "arm64-dotprod", "devices": 3, "online": 2, "downloading": 1, "rollbacks": 1}]}
            """
        return try JSONDecoder().decode(FleetSummary.self, from: Data(json.utf8))
    }
}
