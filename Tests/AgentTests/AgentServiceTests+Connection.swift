import Agent
import FleetProtocol
import Foundation
import MQTTTestSupport
import XCTest

/// The agent's link: download cancels, the outbox across a broker outage, online status per
/// connection.
extension AgentServiceTests {
    func testDownloadCancelStopsTheDownloadAndTheStillDesiredReleaseIsRetriedAfterBackoff() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("cancel")
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port, cancelBackoffMs: 2000))
        try await commit(try AgentFixtures.release(sequence: 1), sequence: 1)

        let release = try AgentFixtures.release(sequence: 2, samples: 64)
        c.recorded.withLock { $0.sendLimit = 2 }
        try await c.publishDesired(sequence: 2, release: release)
        let partial = await AgentFixtures.eventually {
            if case .downloading(_, let p) = await agent.updateState.phase { return p.storedChunks == 2 }
            return false
        }
        XCTAssertTrue(partial)
        let downloads = dir.appendingPathComponent("downloads")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: downloads.path).isEmpty)

        // A cancel for another artifact on this artifact's topic is ignored.
        let other = try AgentFixtures.release(sequence: 9, seed: 4)
        try await c.transport.publish(
            topic: try Topics.artifact(
                hardwareClass: release.descriptor.hardwareClass, artifactDigest: release.descriptor.artifactDigest, .cancel),
            payload: MessageEnvelope.encode(
                DownloadCancel(
                    hardwareClass: AgentFixtures.hardwareClass, artifactDigest: other.descriptor.artifactDigest, releaseSequence: 9,
                    reason: "not yours")),
            qos: .atLeastOnce, retain: false)
        try await c.publishCancel(release, reason: "rollout halted")
        let canceled = await AgentFixtures.eventually { self.event(.downloadCanceled, release: 2) != nil }
        XCTAssertTrue(canceled, "events: \(c.events.map(\.kind))")
        XCTAssertEqual(c.events.filter { $0.kind == .downloadCanceled }.count, 1)
        let reason = try XCTUnwrap(event(.downloadCanceled, release: 2)?.reason)
        XCTAssertEqual(reason.code, .canceled)
        XCTAssertTrue(reason.detail.hasPrefix("rollout halted"), reason.detail)
        let state = await agent.updateState
        XCTAssertEqual(state.phase, .idle)
        XCTAssertEqual(state.canceled?.cancels, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: downloads.path), [], "the partial download is deleted")
        let served = await agent.servingRelease
        XCTAssertEqual(served, 1, "the running model keeps serving")
        _ = try await agent.infer(["x": try XCTUnwrap(AgentFixtures.sampleInput())])

        // The signed desired state still names release 2: after the backoff the agent asks again
        // from scratch, and this time gets everything.
        c.recorded.withLock {
            $0.sendLimit = nil
            $0.requests = []
        }
        let committed = await AgentFixtures.eventually {
            c.lastState?.running?.releaseSequence == 2 && c.lastState?.running?.status == .committed
        }
        XCTAssertTrue(committed, "events: \(c.events.map(\.kind))")
        XCTAssertEqual(c.requests.first?.missing, [], "a fresh download asks for everything")
        XCTAssertEqual(c.events.filter { $0.kind == .downloadStarted && $0.releaseSequence == 2 }.count, 2)
        let after = await agent.updateState
        XCTAssertNil(after.canceled)
    }

    func testEventsRaisedDuringABrokerOutageReachTheCoordinatorOnceWithoutRestartingTheAgent() async throws {
        // A broker that keeps sessions across its restart, and a coordinator with a persistent
        // session: what the agent publishes after the outage is queued for the coordinator
        // whichever reconnects first.
        try await broker?.stop()
        await coordinator?.close()
        var options = MosquittoBroker.Options()
        options.persistence = true
        let broker = try await MosquittoBroker.start(options)
        self.broker = broker
        let c = try await TestCoordinator(port: broker.port, persistentSession: true)
        coordinator = c

        let dir = try AgentFixtures.temporaryDirectory("reconnect")
        let watchdog = WatchdogThresholds(minInferences: 4, maxErrorRate: 0.25)
        let agent = try await startAgent(try AgentFixtures.config(dataDirectory: dir, port: broker.port, watchdog: watchdog))
        try await commit(try AgentFixtures.release(sequence: 1), sequence: 1)
        try await commit(try AgentFixtures.release(sequence: 2), sequence: 2, trial: TrialPolicy(watchSeconds: 600))
        let before = c.uniqueEvents.count

        try await broker.stop()
        // Failing requests while the broker is down: the watchdog rolls back locally.
        let x = try XCTUnwrap(AgentFixtures.sampleInput())
        for _ in 0..<4 { _ = try? await agent.infer(["nope": x]) }
        let rolledLocally = await AgentFixtures.eventually {
            let s = await agent.updateState
            return s.phase == .idle && s.lastRollback?.releaseSequence == 2
        }
        XCTAssertTrue(rolledLocally)
        let outbox = dir.appendingPathComponent("outbox.jsonl").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: outbox), "the rollback event waits in the outbox")

        try await broker.restart()
        let delivered = await AgentFixtures.eventually { self.event(.rolledBack, release: 2) != nil }
        XCTAssertTrue(delivered, "events: \(c.events.map(\.kind))")
        let drained = await AgentFixtures.eventually { !FileManager.default.fileExists(atPath: outbox) }
        XCTAssertTrue(drained, "every event acknowledged")
        let unique = c.uniqueEvents
        XCTAssertGreaterThan(unique.count, before)
        XCTAssertEqual(unique.map(\.sequence), Array(1...UInt64(unique.count)), "no event lost, none out of order")
        XCTAssertEqual(unique.filter { $0.kind == .rolledBack }.count, 1)
        XCTAssertEqual(event(.rolledBack, release: 2)?.reason?.metric, "errorRate")
        let reported = await AgentFixtures.eventually { c.lastState?.running?.releaseSequence == 1 && c.lastState?.lastRollback != nil }
        XCTAssertTrue(reported, "the state report after the outage tells the truth")
        XCTAssertEqual(agents.count, 1, "the same agent all along")
    }

    func testEveryReconnectGetsANewConnectionSequenceInItsOnlineStatusAndWill() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("online")
        let config = try AgentFixtures.config(dataDirectory: dir, port: broker.port)
        let agent = try await startAgent(config)
        let first = agent.connectionSequence
        let online = await AgentFixtures.eventually {
            c.recorded.withLock { $0.online.contains { $0.online && $0.connectionSequence == first } }
        }
        XCTAssertTrue(online)

        // The link breaks without DISCONNECT: the broker publishes the will of that connection,
        // and the client reconnects with a will (and online message) of the next one.
        try XCTUnwrap(transports.last).client.dropConnection()
        let back = await AgentFixtures.eventually {
            c.recorded.withLock { $0.online.contains { $0.online && $0.connectionSequence > first } }
        }
        XCTAssertTrue(back, "statuses: \(c.recorded.withLock { $0.online })")
        let statuses = c.recorded.withLock { $0.online }
        let will = try XCTUnwrap(statuses.first { !$0.online }, "the broker published the will")
        XCTAssertEqual(will.connectionSequence, first)
        let live = try XCTUnwrap(statuses.last { $0.online })
        XCTAssertEqual(live.connectionSequence, agent.connectionSequence)
        XCTAssertTrue(live.supersedes(will), "a late will of the old connection does not mark the device offline")
        XCTAssertFalse(will.supersedes(live))
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("connection"), encoding: .utf8), String(live.connectionSequence))

        // The sequence survives a restart of the agent.
        await stopAgent(agent)
        let restarted = try await startAgent(config)
        XCTAssertGreaterThan(restarted.connectionSequence, live.connectionSequence)
        let announced = await AgentFixtures.eventually {
            c.recorded.withLock { $0.online.contains { $0.online && $0.connectionSequence == restarted.connectionSequence } }
        }
        XCTAssertTrue(announced)
    }
}
