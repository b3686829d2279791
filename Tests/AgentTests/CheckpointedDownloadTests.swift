import FleetProtocol
import Foundation
import TestSupport
import XCTest

@testable import Agent

/// When download progress becomes durable, and the rule that a persisted bitmap never claims a
/// chunk whose bytes were not synced. No broker: a real reassembler on a temporary file.
final class CheckpointedDownloadTests: XCTestCase {
    /// Every bitmap handed to `save`, beside what the reassembler had synced at that moment.
    final class Saves {
        var saved: [ChunkBitmap] = []
        var syncedAtSave: [ChunkBitmap] = []
        var haveAtSave: [ChunkBitmap] = []
    }

    struct Setup {
        var download: CheckpointedDownload
        var frames: [ChunkFrame]
        var bytes: [UInt8]
        var saves: Saves
        var path: String
    }

    func makeDownload(size: Int = 10 * 1024, policy: DownloadCheckpointPolicy, seed: UInt64 = 1) throws -> Setup {
        var rng = SplitMix64(seed: seed)
        let bytes = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let plan = try ChunkPlan(artifactDigest: String(repeating: "ab", count: 32), totalSize: size, chunkSize: 1024)
        let path = try AgentFixtures.temporaryDirectory("checkpoint").appendingPathComponent("download.part").path
        let r = try ChunkReassembler(plan: plan, expectedSHA256: String(repeating: "0", count: 64), path: path, maxBytes: 1 << 20)
        let saves = Saves()
        let d = CheckpointedDownload(reassembler: r, policy: policy, now: 0) { (p: ChunkProgress) throws(AgentError) in
            saves.saved.append(p.have)
            saves.syncedAtSave.append(r.synced)
            saves.haveAtSave.append(r.have)
        }
        return Setup(download: d, frames: try Chunker.frames(of: bytes, plan: plan), bytes: bytes, saves: saves, path: path)
    }

    /// What the agent does with each frame (`AgentService.receiveChunk`).
    func deliver(_ s: Setup, _ index: Int, now: Int64) throws {
        guard try s.download.accept(frameBytes: s.frames[index].encoded) else { return }
        if s.download.isDue(now: now) { try s.download.checkpoint(now: now) }
    }

    func testCheckpointsEveryNChunksAndAlwaysAtTheEnd() throws {
        let s = try makeDownload(policy: DownloadCheckpointPolicy(chunks: 4, intervalMs: 1_000_000))
        for i in 0..<10 {
            try deliver(s, i, now: 0)
            if i == 2 { try deliver(s, 0, now: 0) }  // a duplicate is not a new chunk
        }
        XCTAssertEqual(s.saves.saved.map(\.setCount), [4, 8, 10], "after chunks 4 and 8, and the last one (10 of 10)")
        XCTAssertEqual(s.download.unsaved, 0)
        XCTAssertTrue(s.download.persisted.isComplete)
    }

    func testCheckpointsAfterTheIntervalWithFewChunks() throws {
        let s = try makeDownload(policy: DownloadCheckpointPolicy(chunks: 100, intervalMs: 500))
        XCTAssertFalse(s.download.isDue(now: 10_000), "nothing stored: nothing to checkpoint, however late")
        try deliver(s, 3, now: 100)
        XCTAssertTrue(s.saves.saved.isEmpty)
        XCTAssertFalse(s.download.isDue(now: 499))
        XCTAssertTrue(s.download.isDue(now: 500), "the tick finds it due 500 ms after the last checkpoint")
        try s.download.checkpoint(now: 500)
        try deliver(s, 4, now: 700)
        try deliver(s, 5, now: 999)
        XCTAssertEqual(s.saves.saved.map(\.setCount), [1], "the interval runs from the last checkpoint (500)")
        try deliver(s, 6, now: 1000)
        XCTAssertEqual(s.saves.saved.map(\.setCount), [1, 4])
        XCTAssertEqual(s.download.persisted.missingRanges, [ChunkRange(first: 0, count: 3), ChunkRange(first: 7, count: 3)])
    }

    /// Chunks in a seeded random order with duplicates, checkpoints at chunk counts and times
    /// that fall where they fall: every saved bitmap is exactly what the sync before it covered,
    /// and a crash at the end (unsaved chunks written but not in any saved bitmap) resumes
    /// with exactly the chunks the last saved bitmap lacks.
    func testPersistedBitmapNeverCoversUnsyncedChunks() throws {
        let s = try makeDownload(size: 40 * 1024 - 100, policy: DownloadCheckpointPolicy(chunks: 3, intervalMs: 250), seed: 7)
        var rng = SplitMix64(seed: 99)
        var now: Int64 = 0
        var order = Array(0..<s.frames.count).shuffled(using: &rng)
        order.insert(contentsOf: [order[2], order[5]], at: 9)  // duplicates
        for index in order.prefix(order.count - 5) {
            now += Int64(rng.next() % 120)
            try deliver(s, index, now: now)
        }
        XCTAssertGreaterThan(s.saves.saved.count, 3)
        for (k, saved) in s.saves.saved.enumerated() {
            XCTAssertEqual(saved, s.saves.syncedAtSave[k], "save \(k) claims exactly what the sync before it covered")
            for i in 0..<saved.count where saved.contains(i) { XCTAssertTrue(s.saves.haveAtSave[k].contains(i)) }
        }
        let last = try XCTUnwrap(s.saves.saved.last)
        XCTAssertEqual(s.download.persisted, last)
        let unsaved = s.download.unsaved
        XCTAssertGreaterThan(unsaved, 0, "the crash below must lose something for the test to mean anything")
        XCTAssertEqual(s.download.reassembler.have.setCount - last.setCount, unsaved)

        // Crash: no checkpoint, the descriptor just closes. A new reassembler from the saved
        // progress asks again for every chunk it does not claim, written or not.
        let plan = s.download.reassembler.plan
        s.download.reassembler.close()
        let resumed = try ChunkReassembler(
            plan: plan, expectedSHA256: String(repeating: "0", count: 64), path: s.path, maxBytes: 1 << 20,
            resume: ChunkProgress(plan: plan, have: last))
        XCTAssertEqual(resumed.missingRanges, last.missingRanges)
        XCTAssertEqual(resumed.missingRanges.reduce(0) { $0 + $1.count }, plan.chunkCount - last.setCount)
        // The chunks it claims hold the right bytes.
        let file = Array(try Data(contentsOf: URL(fileURLWithPath: s.path)))
        for i in 0..<plan.chunkCount where last.contains(i) {
            let range = plan.offset(of: i)..<plan.offset(of: i) + plan.length(of: i)
            XCTAssertEqual(Array(file[range]), Array(s.bytes[range]), "chunk \(i)")
        }
    }

    func testAFailedSyncSavesNoBitmap() throws {
        let s = try makeDownload(policy: DownloadCheckpointPolicy(chunks: 2, intervalMs: 500))
        try deliver(s, 0, now: 0)
        try deliver(s, 1, now: 0)
        XCTAssertEqual(s.saves.saved.map(\.setCount), [2])
        XCTAssertTrue(try s.download.accept(frameBytes: s.frames[2].encoded))
        s.download.reassembler.close()  // the sync will fail
        XCTAssertThrowsError(try s.download.checkpoint(now: 1)) { error in
            XCTAssertTrue("\(error)".contains("sync download"), "\(error)")
        }
        XCTAssertEqual(s.saves.saved.map(\.setCount), [2], "no bitmap saved without its sync")
        XCTAssertEqual(s.download.persisted.setCount, 2)
    }

    func testConfigRefusesACheckpointIntervalTheStallDetectorCannotLiveWith() throws {
        let dir = try AgentFixtures.temporaryDirectory("checkpoint-config")
        XCTAssertThrowsError(
            try AgentFixtures.config(
                dataDirectory: dir, port: 1883, stallTimeoutMs: 1000,
                downloadCheckpoint: DownloadCheckpointPolicy(chunks: 16, intervalMs: 600))
        ) { error in
            XCTAssertTrue("\(error)".contains("'downloadCheckpointMs'"), "\(error)")
        }
        XCTAssertThrowsError(
            try AgentFixtures.config(
                dataDirectory: dir, port: 1883, downloadCheckpoint: DownloadCheckpointPolicy(chunks: 0, intervalMs: 100))
        ) { error in
            XCTAssertTrue("\(error)".contains("'downloadCheckpointChunks'"), "\(error)")
        }
        // The config file's two fields.
        let key = dir.appendingPathComponent("key.pem")
        try AgentFixtures.signingKey.publicKey.pemRepresentation.write(to: key, atomically: true, encoding: .utf8)
        let json: [String: Any] = [
            "deviceId": "d", "brokerURL": "mqtt://127.0.0.1:1883", "dataDirectory": dir.appendingPathComponent("data").path,
            "hardwareClass": AgentFixtures.hardwareClass, "pinnedKeyFiles": [key.path],
            "downloadCheckpointChunks": 4, "downloadCheckpointMs": 250,
        ]
        let url = dir.appendingPathComponent("agent.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        XCTAssertEqual(try AgentConfigFile.load(url).downloadCheckpoint, DownloadCheckpointPolicy(chunks: 4, intervalMs: 250))
        let defaults = try AgentFixtures.config(dataDirectory: dir, port: 1883).downloadCheckpoint
        XCTAssertEqual(defaults, DownloadCheckpointPolicy(chunks: 16, intervalMs: 500))
    }
}
