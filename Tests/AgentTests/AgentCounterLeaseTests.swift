import FleetProtocol
import Foundation
import XCTest

@testable import Agent

/// counters.json holds a ceiling reserved ahead of the sequences in use: one durable write per
/// 64 messages instead of one per message, and sequences still grow across restarts.
final class AgentCounterLeaseTests: XCTestCase {
    func persisted(_ dir: URL) throws -> AgentCounters {
        try JSONDecoder().decode(AgentCounters.self, from: Data(contentsOf: dir.appendingPathComponent("counters.json")))
    }

    func testCountersAreReservedAheadAndGrowAcrossRestarts() async throws {
        let dir = try AgentFixtures.temporaryDirectory("counters")
        let config = try AgentFixtures.config(dataDirectory: dir, port: 1883)
        let first = try AgentService(config: config)
        await first.publishState()
        XCTAssertEqual(try persisted(dir).stateReport, 1 + 64, "the first report reserves 64 ahead")
        XCTAssertEqual(try persisted(dir).event, 64)
        // Every durable write renames a new file into place: a new inode.
        func inode() throws -> Int? {
            (try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("counters.json").path)[.systemFileNumber]
                as? NSNumber)?
                .intValue
        }
        let written = try inode()
        for _ in 0..<64 { await first.publishState() }
        let used = await first.stateReport().sequence
        XCTAssertEqual(used, 65)
        XCTAssertEqual(try persisted(dir).stateReport, 65, "65 reports, one write")
        XCTAssertEqual(try inode(), written)
        await first.publishState()
        XCTAssertEqual(try persisted(dir).stateReport, 66 + 64)
        XCTAssertNotEqual(try inode(), written)
        await first.publishEvent(.installed, releaseSequence: 1, artifactDigest: nil, reason: nil)
        XCTAssertGreaterThanOrEqual(try persisted(dir).event, 1)

        // A restart (as after a kill: nothing more written) continues above everything used.
        let second = try AgentService(config: config)
        await second.publishState()
        let next = await second.stateReport().sequence
        XCTAssertGreaterThan(next, 66)
        XCTAssertEqual(next, 66 + 64 + 1)
        await second.publishEvent(.installed, releaseSequence: 1, artifactDigest: nil, reason: nil)
        let events = try String(contentsOf: dir.appendingPathComponent("outbox.jsonl"), encoding: .utf8)
        XCTAssertEqual(events.split(separator: "\n").count, 2)
    }
}
