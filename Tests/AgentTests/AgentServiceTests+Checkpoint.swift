import Agent
import FleetProtocol
import Foundation
import XCTest

/// Download checkpoints over a real broker: a kill loses what came after the last checkpoint,
/// and the restarted agent asks for exactly what its persisted bitmap does not cover.
extension AgentServiceTests {
    func testKillAfterACheckpointResumesWithExactlyTheChunksTheBitmapLacks() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("checkpoint-kill")
        // A checkpoint every 2 chunks, never by time within this test.
        let config = try AgentFixtures.config(
            dataDirectory: dir, port: broker.port, stallTimeoutMs: 600_000,
            downloadCheckpoint: DownloadCheckpointPolicy(chunks: 2, intervalMs: 300_000))
        let first = try await startAgent(config)
        let release = try AgentFixtures.release(sequence: 1, samples: 64)
        let plan = try release.descriptor.chunkPlan
        XCTAssertGreaterThan(plan.chunkCount, 3, "chunks 0-1 checkpointed, 2 written only, the rest never sent")
        c.recorded.withLock { $0.sendLimit = 3 }
        try await c.publishDesired(sequence: 1, release: release)

        // Chunks 0 and 1 make a checkpoint; chunk 2 is written to the file but not yet durable.
        let part = dir.appendingPathComponent("downloads/\(release.descriptor.artifactDigest).part")
        let third = plan.offset(of: 2)..<plan.offset(of: 2) + plan.length(of: 2)
        let written = await AgentFixtures.eventually {
            guard case .downloading(_, let p) = await first.updateState.phase, p.storedChunks == 2 else { return false }
            guard let bytes = FileManager.default.contents(atPath: part.path), bytes.count >= third.upperBound else { return false }
            return Array(bytes[third]) == Array(release.compressed[third])
        }
        XCTAssertTrue(written)
        await first.kill()
        if let i = agents.firstIndex(where: { $0 === first }) {
            agents.remove(at: i)
            await transports.remove(at: i).disconnect()
        }

        // What the dead agent left: a bitmap of chunks 0 and 1 only, the state saying 2 stored.
        let progressURL = dir.appendingPathComponent("downloads/\(release.descriptor.artifactDigest).progress")
        let progress = try JSONDecoder().decode(ChunkProgress.self, from: Data(contentsOf: progressURL))
        XCTAssertEqual(progress.have.setCount, 2)
        XCTAssertTrue(progress.have.contains(0) && progress.have.contains(1))
        XCTAssertFalse(progress.have.contains(2), "chunk 2 was never checkpointed")

        c.recorded.withLock {
            $0.sendLimit = nil
            $0.requests = []
        }
        let second = try await startAgent(config)
        let committed = await AgentFixtures.eventually { c.lastState?.running?.status == .committed }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")
        let asked = try XCTUnwrap(c.requests.first)
        XCTAssertEqual(asked.missing, [ChunkRange(first: 2, count: plan.chunkCount - 2)], "chunk 2 is asked for again")
        let resume = await second.lastResume
        XCTAssertEqual(resume?.storedChunks, 2)
    }

    /// Chunks that arrive and then stop (the coordinator sent what it had) are made durable by
    /// the tick once the interval has passed, without a further chunk to trigger it, and the
    /// stall detector sees that progress.
    func testTheTickCheckpointsChunksThatStoppedArriving() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("checkpoint-tick")
        let config = try AgentFixtures.config(
            dataDirectory: dir, port: broker.port, stallTimeoutMs: 600_000,
            downloadCheckpoint: DownloadCheckpointPolicy(chunks: 100, intervalMs: 300))
        let agent = try await startAgent(config)
        let release = try AgentFixtures.release(sequence: 1, samples: 64)
        c.recorded.withLock { $0.sendLimit = 3 }
        try await c.publishDesired(sequence: 1, release: release)
        let stored = await AgentFixtures.eventually {
            if case .downloading(_, let p) = await agent.updateState.phase { return p.storedChunks == 3 }
            return false
        }
        XCTAssertTrue(stored)
        let progressURL = dir.appendingPathComponent("downloads/\(release.descriptor.artifactDigest).progress")
        let progress = try JSONDecoder().decode(ChunkProgress.self, from: Data(contentsOf: progressURL))
        XCTAssertEqual(progress.have.setCount, 3)
    }
}
