import Agent
import FleetMQTT
import FleetProtocol
import FleetSimulator
import Foundation
import MQTTTestSupport
import TestSupport
import XCTest

/// The killMidDownload fault over a real Mosquitto: an agent dies abruptly halfway through a
/// download, a new one on the same data directory resumes it from the persisted bitmap.
final class SimulatorKillTests: SimulatorBrokerTestCase {
    /// Two healthy x86 devices and one arm64 device killed at half of the download (alone in
    /// its class, so every chunk on its topic comes from its own requests and the chunks it
    /// holds at the kill are exactly the first ones published).
    func testKilledMidDownloadResumesFromItsBitmapAndCommits() async throws {
        let c = try XCTUnwrap(coordinator)
        let sim = try await makeSimulator(
            devices: 3, classes: "x86_64-avx2:2,arm64-dotprod:1",
            faults: [SimulatedFault(.killMidDownload(at: 0.5, pause: .seconds(1)), hardwareClass: "arm64-dotprod", releases: ["1"])],
            name: "kill", stallTimeoutMs: 5000)
        let devices = await sim.devices
        let victim = try XCTUnwrap(devices.first { $0.hardwareClass == "arm64-dotprod" })
        XCTAssertEqual(devices.filter { !$0.faults.isEmpty }.map(\.deviceID), [victim.deviceID])
        let announced = await eventually(20) {
            c.recorded.withLock { $0.onlineLog[victim.deviceID]?.last?.online == true }
        }
        XCTAssertTrue(announced)
        let firstConnection = try XCTUnwrap(c.recorded.withLock { $0.onlineLog[victim.deviceID]?.last }).connectionSequence

        // 1 KiB chunks of a digits-sized artifact: a download of a few dozen chunks.
        var releases: [String: SimulatorFixtures.Release] = [:]
        for cls in ["x86_64-avx2", "arm64-dotprod"] {
            releases[cls] = try SimulatorFixtures.release(sequence: 1, hardwareClass: cls, shape: .digits, chunkSize: 1024)
        }
        let release = try XCTUnwrap(releases["arm64-dotprod"])
        let chunkCount = try release.descriptor.chunkPlan.chunkCount
        XCTAssertGreaterThanOrEqual(chunkCount, 10)
        try await rollOut(sim, sequence: 1, releases: releases)

        let committed = await eventually(120) {
            devices.allSatisfy {
                c.state($0.deviceID)?.running?.status == .committed && c.state($0.deviceID)?.running?.releaseSequence == 1
            }
        }
        XCTAssertTrue(committed, "states: \(devices.map { "\($0.deviceID) \(c.state($0.deviceID)?.phase ?? "-")" })")

        // Killed once, at the first chunk that reached half of the download: the fault forces a
        // checkpoint there (they otherwise come every 16 chunks or 500 ms), so exactly half is
        // durable when it dies.
        let kills = victim.kills
        XCTAssertEqual(kills.count, 1)
        let kill = try XCTUnwrap(kills.first)
        let half = (chunkCount + 1) / 2
        XCTAssertEqual(kill.releaseSequence, 1)
        XCTAssertEqual(kill.chunkCount, chunkCount)
        let stored = kill.storedChunks
        XCTAssertEqual(stored, half)
        XCTAssertEqual(kill.resumedFromChunks, stored, "the new agent found the dead one's checkpoint")
        XCTAssertTrue(devices.filter { $0 !== victim }.allSatisfy { $0.kills.isEmpty })

        // The first request asks for everything; the one after the restart for exactly the
        // chunks the dead agent's persisted bitmap did not cover.
        let requests = c.recorded.withLock { $0.requests[victim.deviceID] ?? [] }
        XCTAssertGreaterThanOrEqual(requests.count, 2)
        XCTAssertEqual(requests.first?.missing, [])
        if stored < chunkCount {
            XCTAssertEqual(requests.dropFirst().first?.missing, [ChunkRange(first: stored, count: chunkCount - stored)])
            XCTAssertEqual(requests.dropFirst().first?.indices(chunkCount: chunkCount), Array(stored..<chunkCount))
        }

        // The broker published the dead agent's will; the new agent came online on a new
        // connection sequence.
        let log = c.recorded.withLock { $0.onlineLog[victim.deviceID] ?? [] }
        XCTAssertTrue(log.contains { !$0.online && $0.connectionSequence == firstConnection }, "online log: \(log)")
        XCTAssertTrue(log.contains { $0.online && $0.connectionSequence == firstConnection + 1 }, "online log: \(log)")

        // Its events tell the story: started once, resumed, finished, committed.
        let kinds = c.events(victim.deviceID).sorted { $0.sequence < $1.sequence }.map(\.kind)
        XCTAssertEqual(kinds.filter { $0 == .downloadStarted }.count, 1, "\(kinds)")
        XCTAssertEqual(kinds.filter { $0 == .downloadResumed }.count, 1, "\(kinds)")
        let story: [DeviceEvent.Kind] = [.downloadStarted, .downloadResumed, .downloadFinished, .committed]
        XCTAssertEqual(kinds.filter { story.contains($0) }, story, "\(kinds)")
        for d in devices where d !== victim {
            XCTAssertFalse(c.events(d.deviceID).contains { $0.kind == .downloadResumed }, d.deviceID)
        }

        let summary = await sim.summary()
        XCTAssertEqual(summary.kills, 1)
        XCTAssertEqual(summary.resumedDownloads, 1)
        XCTAssertEqual(summary.killedDownloads.first?.phase, "committed")
        XCTAssertEqual(summary.killedDownloads.first?.runningRelease, "1")
        let line = try XCTUnwrap(summary.killedDownloads.first?.line)
        XCTAssertEqual(
            line,
            "\(victim.deviceID) killed at \(stored * 100 / chunkCount)% of release 1 (\(stored)/\(chunkCount) chunks), "
                + "resumed from \(stored)/\(chunkCount), committed (running 1)")
        XCTAssertTrue(summary.table.contains(line), summary.table)
        let json = String(decoding: try JSONEncoder().encode(summary), as: UTF8.self)
        XCTAssertTrue(json.contains("\"resumedDownloads\":1"), json)
        let serving = await victim.agent.servingRelease
        XCTAssertEqual(serving, 1)
    }
}
