import Agent
import FleetProtocol
import Foundation
import ModelArtifact
import TestSupport
import XCTest

/// The agent's side of the threat model (docs/threat-model.md), against a real Mosquitto:
/// replayed desired states after a restart, artifacts announced above the cap, a
/// decompression bomb signed into a desired state.
extension AgentServiceTests {
    func refusals(containing text: String) -> [DeviceEvent] {
        (coordinator?.events ?? []).filter { $0.kind == .desiredStateRefused && ($0.reason?.detail.contains(text) ?? false) }
    }

    /// Every regular file under `directory` with its size (what the agent left on disk).
    static func files(under directory: URL) -> [String: Int] {
        var out: [String: Int] = [:]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
        else { return out }
        for case let url as URL in walker {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), values.isRegularFile == true else {
                continue
            }
            out[String(url.path.dropFirst(directory.path.count))] = values.fileSize ?? 0
        }
        return out
    }

    /// A validly signed desired state with an older sequence than the one the agent acted on,
    /// replayed after the agent restarted: refused from the persisted high-water mark, nothing
    /// downloaded, the running release untouched.
    func testReplayedOlderDesiredStateIsRefusedAfterTheAgentRestarts() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("replay")
        let config = try AgentFixtures.config(dataDirectory: dir, port: broker.port)
        let first = try await startAgent(config)
        try await commit(try AgentFixtures.release(sequence: 5), sequence: 5)
        await stopAgent(first)

        let second = try await startAgent(config)
        let newer = try AgentFixtures.release(sequence: 6, seed: 2)
        // Both validly signed, both older than 5: a newer release, and an old rollback.
        try await c.publishDesired(sequence: 3, release: newer)
        try await c.publishDesired(
            sequence: 4, release: try AgentFixtures.release(sequence: 4, seed: 3),
            rollback: RollbackDirective(fromReleaseSequence: 5, toReleaseSequence: 4, reason: "an old halt"))
        let refused = await AgentFixtures.eventually { self.refusals(containing: "replay").count >= 2 }
        XCTAssertTrue(refused, "events: \(c.events.map { "\($0.kind) \($0.reason?.detail ?? "")" })")
        XCTAssertEqual(refusals(containing: "replay").compactMap(\.reason?.code), [.invalidDesiredState, .invalidDesiredState])
        let state = await second.updateState
        let serving = await second.servingRelease
        XCTAssertEqual(state.lastDesiredSequence, 5)
        XCTAssertEqual(state.phase.kind, .idle)
        XCTAssertEqual(serving, 5)
        XCTAssertFalse(c.requests.contains { $0.artifactDigest == newer.descriptor.artifactDigest }, "nothing of the replay was fetched")
        XCTAssertEqual(c.lastState?.running?.releaseSequence, 5)

        // The next genuine desired state is still taken.
        try await commit(newer, sequence: 6)
    }

    /// An artifact announced larger than `maxArtifactBytes` is refused from the desired state
    /// alone: not one chunk is requested or written.
    func testArtifactAnnouncedAboveTheCapIsRefusedBeforeAnyDownload() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("too-large")
        let release = try AgentFixtures.release(sequence: 1)
        var config = try AgentFixtures.config(dataDirectory: dir, port: broker.port)
        config.maxArtifactBytes = release.descriptor.transport.uncompressedSize - 1
        let agent = try await startAgent(config)
        try await c.publishDesired(sequence: 1, release: release)
        let refused = await AgentFixtures.eventually { !self.refusals(containing: "maxArtifactBytes").isEmpty }
        XCTAssertTrue(refused, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(refusals(containing: "maxArtifactBytes").first?.reason)
        XCTAssertEqual(reason.metric, "uncompressedBytes")
        XCTAssertEqual(reason.measured, Double(release.descriptor.transport.uncompressedSize))
        XCTAssertEqual(reason.threshold, Double(config.maxArtifactBytes))
        let phase = await agent.updateState.phase.kind
        XCTAssertEqual(phase, .idle)
        XCTAssertEqual(c.requests, [])
        XCTAssertEqual(Self.files(under: dir.appendingPathComponent("downloads")), [:])
    }

    /// A zstd frame of RLE blocks with no content size in its header: 4 bytes per 128 KiB of
    /// output, so `blocks` blocks expand to `blocks` × 128 KiB. Built by hand, as an attacker
    /// would, rather than by our own compressor.
    static func rleBomb(blocks: Int, byte: UInt8 = 0x41) -> [UInt8] {
        // Magic; frame header descriptor 0 (no content size, not single-segment, no checksum,
        // no dictionary); window descriptor exponent 7 → 128 KiB window.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 7 << 3]
        for i in 0..<blocks {
            let last: UInt32 = i == blocks - 1 ? 1 : 0
            let header = (UInt32(128 << 10) << 3) | (1 << 1) | last  // size, RLE, last-block flag
            frame += [UInt8(header & 0xFF), UInt8((header >> 8) & 0xFF), UInt8((header >> 16) & 0xFF), byte]
        }
        return frame
    }

    /// A release whose compressed form is a 2 GiB bomb (64 KiB), announced as
    /// `announcedSize` bytes uncompressed, with the bomb's own compressed digest: what a holder
    /// of the coordinator's key could sign.
    static func bombRelease(in dir: URL, announcedSize: Int? = nil) throws -> AgentFixtures.Release {
        let genuine = try AgentFixtures.release(sequence: 1)
        let bomb = rleBomb(blocks: 16_384)
        let bombFile = dir.appendingPathComponent("bomb.zst")
        try Data(bomb).write(to: bombFile)
        let (bombSize, bombSHA256) = try ArtifactTransport.sha256(fileAt: bombFile)
        try FileManager.default.removeItem(at: bombFile)
        var descriptor = genuine.descriptor
        descriptor.transport.compressedSize = bombSize
        descriptor.transport.compressedSHA256 = bombSHA256
        if let announcedSize { descriptor.transport.uncompressedSize = announcedSize }
        return AgentFixtures.Release(artifact: genuine.artifact, compressed: bomb, descriptor: descriptor)
    }

    /// The coordinator's key signed a desired state whose compressed artifact is a bomb (2 GiB
    /// from 64 KiB) announced as a small artifact. The download verifies (the digest is the
    /// bomb's own); the install stops decompressing at the announced size, reports the
    /// failure, and leaves nothing of either form on disk.
    func testDecompressionBombFailsTheInstallIsReportedAndLeavesNothingOnDisk() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("bomb")
        let release = try Self.bombRelease(in: dir)
        let descriptor = release.descriptor

        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        try await c.publishDesired(sequence: 1, release: release)
        let failed = await AgentFixtures.eventually { c.events.contains { $0.kind == .updateFailed } }
        XCTAssertTrue(failed, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(c.events.first { $0.kind == .updateFailed }?.reason)
        XCTAssertEqual(reason.code, .installFailed)
        XCTAssertTrue(reason.detail.contains("exceeds the limit of \(descriptor.transport.uncompressedSize) bytes"), reason.detail)
        XCTAssertTrue(c.events.contains { $0.kind == .downloadFinished }, "the bomb's own digest verified: only the cap stops it")
        let phase = await agent.updateState.phase.kind
        let serving = await agent.servingRelease
        XCTAssertEqual(phase, .failed)
        XCTAssertNil(serving)
        // Only the agent's small state files remain: no download, no slot, no partial output.
        let left = Self.files(under: dir)
        XCTAssertFalse(left.keys.contains { $0.hasPrefix("/downloads/") || $0.hasPrefix("/slots/") || $0.contains("partial") }, "\(left)")
        XCTAssertLessThan(left.values.reduce(0, +), 1 << 20, "\(left)")
    }

    /// The same bomb announced as 64 MiB (under the default 512 MiB cap): decompression runs
    /// to the announced size, streaming to disk, then stops; the process's peak resident
    /// memory grows by far less than the 64 MiB it wrote, and the partial output is removed.
    func testDecompressionBombAnnouncedLargeStreamsToDiskWithoutGrowingMemory() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("bomb-large")
        let announced = 64 << 20
        let release = try Self.bombRelease(in: dir, announcedSize: announced)
        _ = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        let measured = ProcessMemory.resetPeak()
        let before = ProcessMemory.statusField("VmRSS") ?? 0
        try await c.publishDesired(sequence: 1, release: release)
        let failed = await AgentFixtures.eventually(60) { c.events.contains { $0.kind == .updateFailed } }
        XCTAssertTrue(failed, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(c.events.first { $0.kind == .updateFailed }?.reason)
        XCTAssertEqual(reason.code, .installFailed)
        XCTAssertTrue(reason.detail.contains("exceeds the limit of \(announced) bytes"), reason.detail)
        if measured, let peak = ProcessMemory.statusField("VmHWM") {
            XCTAssertLessThan(peak - before, 32 << 20, "peak RSS grew by \(peak - before) bytes while 64 MiB were decompressed")
        }
        let left = Self.files(under: dir)
        XCTAssertLessThan(left.values.reduce(0, +), 1 << 20, "\(left)")
    }
}
