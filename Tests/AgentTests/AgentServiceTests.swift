import Agent
import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import MQTTTestSupport
import ModelArtifact
import ModelIR
import XCTest

/// The agent against a real Mosquitto, with the test playing the coordinator.
final class AgentServiceTests: XCTestCase {
    var broker: MosquittoBroker?
    var coordinator: TestCoordinator?
    var agents: [AgentService] = []
    var transports: [MQTTTransport] = []
    var mounts: [String] = []
    var endpoints: [InferenceEndpoint] = []

    override func setUp() async throws {
        let broker = try await MosquittoBroker.start()
        self.broker = broker
        coordinator = try await TestCoordinator(port: broker.port)
    }

    override func tearDown() async throws {
        for e in endpoints { e.close() }
        for a in agents { await a.stop() }
        for t in transports { await t.disconnect() }
        await coordinator?.close()
        try await broker?.stop()
        for m in mounts { _ = try? Self.run("/bin/umount", [m]) }
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitForExit()
        return p.terminationStatus
    }

    func startAgent(_ config: AgentConfig) async throws -> AgentService {
        let agent = try AgentService(config: config)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.deviceID, will: agent.nextConnectionWill)
        try await transport.connect()
        try await agent.start(transport: transport)
        agents.append(agent)
        transports.append(transport)
        return agent
    }

    func stopAgent(_ agent: AgentService) async {
        await agent.stop()
        if let i = agents.firstIndex(where: { $0 === agent }) {
            agents.remove(at: i)
            await transports.remove(at: i).disconnect()
        }
    }

    func event(_ kind: DeviceEvent.Kind, release: UInt64? = nil) -> DeviceEvent? {
        coordinator?.events.first { $0.kind == kind && (release == nil || $0.releaseSequence == release) }
    }

    func testInstallsValidatesAndCommitsAGoodModel() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("commit")
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        let release = try AgentFixtures.release(sequence: 1)
        try await c.publishDesired(sequence: 1, release: release)

        let committed = await AgentFixtures.eventually { c.lastState?.running?.status == .committed }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")
        XCTAssertEqual(c.lastState?.running?.artifactDigest, release.descriptor.artifactDigest)
        XCTAssertEqual(c.lastState?.running?.releaseSequence, 1)
        XCTAssertNotNil(event(.committed, release: 1))
        let served = await agent.servingRelease
        XCTAssertEqual(served, 1)
        // The committed slot is the pointer file's, and holds exactly the released artifact.
        let slot = try XCTUnwrap(c.lastState?.running?.slot)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("current"), encoding: .utf8), slot.rawValue)
        let installed = try Data(contentsOf: dir.appendingPathComponent("slots/\(slot.rawValue)/model.flt"))
        XCTAssertEqual(Array(installed), release.artifact)
        // The install's whole-file digest covered the slot's sections: not hashed a second time.
        let skipped = await agent.lastInstallSkippedSectionHashes
        XCTAssertEqual(skipped, true)

        // Real inference through the serving model: the Gemm's answer, and a latency sample.
        let x = try XCTUnwrap(AgentFixtures.sampleInput())
        let out = try await agent.infer(["x": x])
        XCTAssertEqual(out["y"]?.shape, [1, 3])
        // The same answer through the Unix socket endpoint.
        let socket = dir.appendingPathComponent("infer.sock").path
        endpoints.append(try InferenceEndpoint(path: socket, agent: agent))
        let viaSocket = try await Task.detached { try InferenceEndpoint.request(socket: socket, inputs: ["x": x]) }.value
        XCTAssertEqual(viaSocket["y"], out["y"])
        let refused = await Task.detached { () -> String in
            do {
                _ = try InferenceEndpoint.request(socket: socket, inputs: ["nope": x])
                return ""
            } catch { return "\(error)" }
        }.value
        XCTAssertTrue(refused.contains("inference failed"), refused)
        let telemetrySeen = await AgentFixtures.eventually { c.recorded.withLock { $0.telemetry.contains { $0.inferences >= 1 } } }
        XCTAssertTrue(telemetrySeen)
        let summary = c.recorded.withLock { $0.telemetry.first { $0.inferences >= 1 } }
        XCTAssertEqual(summary?.artifactDigest, release.descriptor.artifactDigest)
        XCTAssertGreaterThan(summary?.rssBytes ?? 0, 1 << 20)
        XCTAssertEqual(summary?.validationAccuracy, 1)

        // The agent's own step timers saw this one update: each step of it once, the
        // download's chunk(s) written and made durable, every state change persisted.
        let steps = await agent.stepTimes.steps
        for name in ["verifyDownload", "installToSlot", "loadTrial", "runValidation", "commitSlot"] {
            XCTAssertEqual(steps[name]?.count, 1, "\(name): \(steps)")
        }
        // Duplicate frames count too (they are looked at and dropped).
        XCTAssertGreaterThanOrEqual(steps["chunkWrite"]?.count ?? 0, try release.descriptor.chunkPlan.chunkCount, "\(steps)")
        XCTAssertGreaterThanOrEqual(steps["checkpoint"]?.count ?? 0, 1)
        XCTAssertGreaterThanOrEqual(steps["persist"]?.count ?? 0, 6, "downloading, verifying, installing, trial, validating, committed")
    }

    func testRollsBackAModelThatMissesAccuracy() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("accuracy")
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        try await c.publishDesired(sequence: 1, release: try AgentFixtures.release(sequence: 1))
        let first = await AgentFixtures.eventually { c.lastState?.running?.status == .committed }
        XCTAssertTrue(first)

        try await c.publishDesired(sequence: 2, release: try AgentFixtures.release(sequence: 2, wrongLabels: true))
        let rolled = await AgentFixtures.eventually { self.event(.rolledBack, release: 2) != nil }
        XCTAssertTrue(rolled, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(event(.rolledBack, release: 2)?.reason)
        XCTAssertEqual(reason.code, .validationFailed)
        XCTAssertEqual(reason.metric, "accuracy")
        XCTAssertEqual(reason.measured, 0)
        XCTAssertEqual(try XCTUnwrap(reason.threshold), 0.98, accuracy: 1e-9)
        let settled = await AgentFixtures.eventually { c.lastState?.lastRollback?.releaseSequence == 2 && c.lastState?.phase == "idle" }
        XCTAssertTrue(settled)
        XCTAssertEqual(c.lastState?.running?.releaseSequence, 1, "the old model must run again")
        let served = await agent.servingRelease
        XCTAssertEqual(served, 1)
        // Telemetry of release 1 carries release 1's own validation accuracy (1), never the
        // refused release 2's (0): a coordinator would otherwise see the old release degrade.
        let seen = c.recorded.withLock { $0.telemetry.count }
        let more = await AgentFixtures.eventually { c.recorded.withLock { $0.telemetry.count >= seen + 2 } }
        XCTAssertTrue(more)
        let after = c.recorded.withLock { Array($0.telemetry.dropFirst(seen)) }
        XCTAssertFalse(after.isEmpty)
        for summary in after {
            XCTAssertEqual(summary.releaseSequence, 1)
            XCTAssertEqual(summary.validationAccuracy, 1, "telemetry after the rollback: \(summary)")
        }
    }

    func testRollsBackAModelThatIsTooSlow() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("slow")
        let thresholds = ValidationThresholds(maxLatencyP99Ms: 1e-6, latencyRuns: 5)
        _ = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port, thresholds: thresholds))
        try await c.publishDesired(sequence: 1, release: try AgentFixtures.release(sequence: 1))
        let rolled = await AgentFixtures.eventually { self.event(.rolledBack, release: 1) != nil }
        XCTAssertTrue(rolled, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(event(.rolledBack, release: 1)?.reason)
        XCTAssertEqual(reason.metric, "latencyP99Ms")
        XCTAssertGreaterThan(try XCTUnwrap(reason.measured), try XCTUnwrap(reason.threshold))
        let settled = await AgentFixtures.eventually { c.lastState?.phase == "idle" }
        XCTAssertTrue(settled)
        XCTAssertNil(c.lastState?.running, "nothing was committed before, so nothing runs")
    }

    func testRefusesBadSignatureForeignClassAndDowngrade() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("refuse")
        _ = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        try await c.publishDesired(sequence: 5, release: try AgentFixtures.release(sequence: 5))
        let committed = await AgentFixtures.eventually { c.lastState?.running?.releaseSequence == 5 }
        XCTAssertTrue(committed)

        try await c.publishDesired(sequence: 6, release: try AgentFixtures.release(sequence: 6, seed: 2), tamper: true)
        try await c.publishDesired(sequence: 7, release: try AgentFixtures.release(sequence: 7, hardwareClass: "arm64-neon"))
        try await c.publishDesired(sequence: 8, release: try AgentFixtures.release(sequence: 4, seed: 3))
        let refused = await AgentFixtures.eventually { c.events.filter { $0.kind == .desiredStateRefused }.count >= 3 }
        XCTAssertTrue(refused, "events: \(c.events.map(\.kind))")
        let codes = c.events.filter { $0.kind == .desiredStateRefused }.compactMap { $0.reason?.code }
        XCTAssertEqual(codes, [.invalidDesiredState, .foreignHardwareClass, .downgradeRefused])
        XCTAssertTrue(c.events.first { $0.kind == .desiredStateRefused }?.reason?.detail.contains("signature") ?? false)
        XCTAssertEqual(c.lastState?.running?.releaseSequence, 5)
    }

    func testCorruptedChunkIsRefusedAndRequestedAgain() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("corrupt")
        _ = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        let release = try AgentFixtures.release(sequence: 1, samples: 64)
        XCTAssertGreaterThan(try release.descriptor.chunkPlan.chunkCount, 2)
        c.recorded.withLock { $0.corruptOnce = [1] }
        try await c.publishDesired(sequence: 1, release: release)
        let committed = await AgentFixtures.eventually { c.lastState?.running?.status == .committed }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")
        XCTAssertTrue(c.requests.contains { $0.missing == [ChunkRange(first: 1, count: 1)] }, "requests: \(c.requests.map(\.missing))")
    }

    func testRestartMidDownloadResumesFromPersistedChunks() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("resume")
        let config = try AgentFixtures.config(dataDirectory: dir, port: broker.port)
        let first = try await startAgent(config)
        let release = try AgentFixtures.release(sequence: 1, samples: 64)
        let chunks = try release.descriptor.chunkPlan.chunkCount
        c.recorded.withLock { $0.sendLimit = 2 }
        try await c.publishDesired(sequence: 1, release: release)
        let partial = await AgentFixtures.eventually {
            if case .downloading(_, let p) = await first.updateState.phase { return p.storedChunks == 2 }
            return false
        }
        XCTAssertTrue(partial)
        await stopAgent(first)

        c.recorded.withLock {
            $0.sendLimit = nil
            $0.requests = []
        }
        _ = try await startAgent(config)
        let committed = await AgentFixtures.eventually { c.lastState?.running?.status == .committed }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")
        // The restarted agent asked only for what it did not have.
        let asked = try XCTUnwrap(c.requests.first)
        XCTAssertEqual(asked.missing, [ChunkRange(first: 2, count: chunks - 2)])
    }
}

extension AgentServiceTests {
    func testEventsRaisedWhileTheBrokerIsDownAreDeliveredAfterItReturns() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("outage")
        let config = try AgentFixtures.config(dataDirectory: dir, port: broker.port, maxDownloadAttempts: 2)
        let first = try await startAgent(config)
        let release = try AgentFixtures.release(sequence: 1, samples: 64)
        c.recorded.withLock { $0.sendLimit = 1 }
        try await c.publishDesired(sequence: 1, release: release)
        let started = await AgentFixtures.eventually {
            if case .downloading(_, let p) = await first.updateState.phase { return p.storedChunks == 1 }
            return false
        }
        XCTAssertTrue(started)

        // Broker gone: the download stalls, re-requests go nowhere, the release fails. Its
        // event can only reach the outbox; then the agent itself stops (as on a power cut).
        try await broker.stop()
        await c.close()
        let failed = await AgentFixtures.eventually { await first.updateState.phase.kind == .failed }
        XCTAssertTrue(failed)
        await stopAgent(first)
        let outbox = dir.appendingPathComponent("outbox.jsonl").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: outbox))

        try await broker.restart()
        let c2 = try await TestCoordinator(port: broker.port)
        coordinator = c2
        _ = try await startAgent(config)
        let delivered = await AgentFixtures.eventually { c2.events.contains { $0.kind == .downloadFailed && $0.releaseSequence == 1 } }
        XCTAssertTrue(delivered, "events after the outage: \(c2.events.map(\.kind))")
        let sequences = c2.events.map(\.sequence)
        XCTAssertEqual(sequences, sequences.sorted(), "the outbox drains in order")
        XCTAssertEqual(c2.events.first { $0.kind == .downloadFailed }?.reason?.code, .downloadFailed)
        let drained = await AgentFixtures.eventually { !FileManager.default.fileExists(atPath: outbox) }
        XCTAssertTrue(drained, "every event acknowledged: the outbox is compacted away")
    }

    func testFullDiskFailsCleanlyAndTheOldModelKeepsServing() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("fulldisk")
        guard (try? Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", dir.path])) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root)")
        }
        mounts.append(dir.path)
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port))
        try await c.publishDesired(sequence: 1, release: try AgentFixtures.release(sequence: 1))
        let committed = await AgentFixtures.eventually { c.lastState?.running?.status == .committed }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")

        let big = try AgentFixtures.release(sequence: 2, seed: 5, features: 256, classes: 512)
        XCTAssertGreaterThan(big.compressed.count, 128 << 10)
        try await c.publishDesired(sequence: 2, release: big)
        let failed = await AgentFixtures.eventually { self.event(.downloadFailed, release: 2) != nil }
        XCTAssertTrue(failed, "events: \(c.events.map(\.kind))")
        let reason = try XCTUnwrap(event(.downloadFailed, release: 2)?.reason)
        XCTAssertEqual(reason.code, .downloadFailed)
        XCTAssertTrue(reason.detail.contains("disk") || reason.detail.contains("space"), reason.detail)
        let settled = await AgentFixtures.eventually { c.lastState?.phase == "failed" }
        XCTAssertTrue(settled)
        XCTAssertEqual(c.lastState?.running?.releaseSequence, 1)
        let served = await agent.servingRelease
        XCTAssertEqual(served, 1)
        let out = try await agent.infer(["x": try XCTUnwrap(AgentFixtures.sampleInput())])
        XCTAssertEqual(out["y"]?.shape, [1, 3])
    }
}

extension AgentFixtures {
    static func sampleInput() -> Tensor? { try? Tensor(floats: [0.5, -1, 2, 0.25], shape: [1, 4]) }
}
