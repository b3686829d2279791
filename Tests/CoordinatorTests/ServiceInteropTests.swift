import FleetMQTT
import FleetProtocol
import Foundation
import MQTTTestSupport
import XCTest

@testable import Coordinator

/// The whole fleet over MQTT 3.1.1: RabbitMQ's MQTT plugin (3.1.1 only) and Mosquitto with every
/// client forced to 3.1.1 (docs/brokers.md). A release rolls out, the devices commit, telemetry
/// arrives, the next release rolls out, and an operator rollback brings every device back.
final class ServiceInteropTests: XCTestCase {
    var harness: ServiceHarness?

    override func tearDown() async throws {
        await harness?.shutdown()
        harness = nil
    }

    func testRolloutTelemetryAndRollbackOverRabbitMQWithMQTT311() async throws {
        guard RabbitMQBroker.isInstalled else { throw XCTSkip(RabbitMQBroker.notInstalledMessage) }
        let h = try await ServiceHarness(broker: try await RabbitMQBroker.start(), mqttProtocol: .v311)
        harness = h
        try await rolloutTelemetryAndRollback(h)
    }

    func testRolloutTelemetryAndRollbackOverMosquittoForcedToMQTT311() async throws {
        let h = try await ServiceHarness(broker: try await MosquittoBroker.start(), mqttProtocol: .v311)
        harness = h
        try await rolloutTelemetryAndRollback(h)
    }

    /// `auto` settles on 3.1.1 against RabbitMQ (which closes an MQTT 5 CONNECT unanswered) and
    /// the coordinator then subscribes without `$share`; against Mosquitto it stays on MQTT 5.
    func testAutoProtocolSettlesOn311ForRabbitMQAndOn5ForMosquitto() async throws {
        let mosquitto = try await MosquittoBroker.start()
        let onMosquitto = try MQTTTransport(
            broker: BrokerConfig(host: mosquitto.host, port: mosquitto.port, mqttProtocol: .auto), clientID: "auto-mosquitto")
        try await onMosquitto.connect()
        XCTAssertEqual(onMosquitto.client.protocolVersion, .v5)
        XCTAssertTrue(onMosquitto.supportsSharedSubscriptions)
        await onMosquitto.disconnect()
        try await mosquitto.stop()

        guard RabbitMQBroker.isInstalled else { throw XCTSkip(RabbitMQBroker.notInstalledMessage) }
        let rabbit = try await RabbitMQBroker.start()
        let onRabbit = try MQTTTransport(
            broker: BrokerConfig(host: rabbit.host, port: rabbit.port, mqttProtocol: .auto), clientID: "auto-rabbit")
        try await onRabbit.connect()
        XCTAssertEqual(onRabbit.client.protocolVersion, .v311, rabbit.log)
        XCTAssertFalse(onRabbit.supportsSharedSubscriptions)
        // The connection is a working one: a message comes back through the broker.
        let topic = try Topics.device("auto-dev", .events)
        let stream = try await onRabbit.subscribe(Topics.deviceFilter(.events), qos: .atLeastOnce)
        try await onRabbit.publish(topic: topic, payload: Array("hello".utf8), qos: .atLeastOnce, retain: false)
        var iterator = stream.makeAsyncIterator()
        let received = await iterator.next()
        XCTAssertEqual(received?.topic, topic)
        XCTAssertEqual(received?.payload, Array("hello".utf8))
        await onRabbit.disconnect()
        try await rabbit.stop()
    }

    /// Two coordinators on one database and one MQTT 3.1.1 broker: both hear every device
    /// message; a rollout completes, and each chunk request is answered by exactly one of them
    /// (the holder of the chunk-requests lease).
    func testTwoCoordinatorsOnOneMQTT311BrokerAnswerEachChunkRequestOnce() async throws {
        let h = try await ServiceHarness(broker: try await MosquittoBroker.start(), mqttProtocol: .v311)
        harness = h
        let first = try await h.startCoordinator()
        var config = try h.config()
        config.clientID = "coordinator-b"
        let transport = try MQTTTransport(broker: config.broker, clientID: config.clientID)
        try await transport.connect()
        let second = try CoordinatorService(
            config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory), transport: transport)
        try await second.start()

        for i in 0..<2 { try await h.startAgent("x86-\(i)", hardwareClass: "x86_64-avx2") }
        let registered = try await h.eventually(60) { try h.store().devices().count == 2 }
        XCTAssertTrue(registered, h.snapshot())
        _ = try h.addRelease(version: "1")
        let started = try await first.startRollout(request("1", waves: [1]), actor: "alice")
        let done = try await waitForStatus(h, started.id, in: ["completed", "completedWithHaltedClasses", "halted", "rolledBack"])
        XCTAssertEqual(done.status, "completed")
        let committed = try await h.eventually(60) { try h.running().values.allSatisfy { $0 == "1 committed" } }
        XCTAssertTrue(committed, h.snapshot())

        let heard = [await first.counters.messages["chunkRequest"] ?? 0, await second.counters.messages["chunkRequest"] ?? 0]
        let leftToPeer = [
            await first.counters.messages["chunkRequestLeftToPeer"] ?? 0, await second.counters.messages["chunkRequestLeftToPeer"] ?? 0,
        ]
        XCTAssertGreaterThan(heard[0], 0, "the agents asked for chunks")
        XCTAssertEqual(heard[0], heard[1], "without $share both coordinators hear every request")
        XCTAssertEqual((heard[0] - leftToPeer[0]) + (heard[1] - leftToPeer[1]), heard[0], "each request answered once: \(leftToPeer)")
        let lease = try XCTUnwrap(try h.store().lease(name: CoordinatorService.chunkRequestLease))
        XCTAssertTrue(["coordinator-test", "coordinator-b"].contains(lease.holder), lease.holder)
        await second.stop()
        await transport.disconnect()
    }

    static let gate = APIGateOptions(minDevices: 1, minSuccessRate: 1, maxP95Ratio: 10, maxAccuracyDrop: 0.05, gateTimeoutSeconds: 90)

    func request(_ version: String, waves: [Double]) -> APIRolloutRequest {
        APIRolloutRequest(modelName: "digits", version: version, target: "", waves: waves, soakSeconds: 1.5, gate: Self.gate)
    }

    func rolloutTelemetryAndRollback(_ h: ServiceHarness) async throws {
        let service = try await h.startCoordinator()
        let devices = ["x86-0": "x86_64-avx2", "x86-1": "x86_64-avx2", "arm-0": "arm64-dotprod", "arm-1": "arm64-dotprod"]
        for (id, hardwareClass) in devices.sorted(by: { $0.key < $1.key }) { try await h.startAgent(id, hardwareClass: hardwareClass) }
        let registered = try await h.eventually(60) { try h.store().devices().count == devices.count }
        XCTAssertTrue(registered, "devices in the registry: \(h.snapshot())\n\(h.broker.log.suffix(3000))")

        // v1 in two waves (canary then the rest); every device commits it.
        _ = try h.addRelease(version: "1")
        let first = try await service.startRollout(request("1", waves: [0.5, 1]), actor: "alice")
        let v1 = try await waitForStatus(h, first.id, in: ["completed", "completedWithHaltedClasses", "halted", "rolledBack"])
        XCTAssertEqual(v1.status, "completed", "v1: \(v1.classes.map { "\($0.hardwareClass) \($0.status) \($0.reason ?? "")" })")
        let allOnV1 = try await h.eventually(60) { try h.running().values.allSatisfy { $0 == "1 committed" } }
        XCTAssertTrue(allOnV1, "after v1: \(h.snapshot())")

        // Telemetry of v1 arrives from every device of each class, with real inferences.
        for hardwareClass in ServiceHarness.classes {
            let variant = try XCTUnwrap(try h.store().variant(name: "digits", version: "1", hardwareClass: hardwareClass))
            let expected = devices.filter { $0.value == hardwareClass }.keys.sorted()
            var totals: TelemetryAggregate?
            let arrived = try await h.eventually(60) {
                totals = try h.store().telemetryTotals(artifactDigest: variant.artifactDigest, hardwareClass: hardwareClass, sinceMs: 0)
                return totals?.deviceIDs == expected && (totals?.inferences ?? 0) > 0
            }
            XCTAssertTrue(arrived, "\(hardwareClass) telemetry: \(String(describing: totals))")
        }

        // v2 to everyone at once, then the operator rolls it back.
        _ = try h.addRelease(version: "2", seed: 2)
        let second = try await service.startRollout(request("2", waves: [1]), actor: "alice")
        let v2 = try await waitForStatus(h, second.id, in: ["completed", "completedWithHaltedClasses", "halted", "rolledBack"])
        XCTAssertEqual(v2.status, "completed", "v2: \(v2.classes.map { "\($0.hardwareClass) \($0.status) \($0.reason ?? "")" })")
        let allOnV2 = try await h.eventually(60) { try h.running().values.allSatisfy { $0 == "2 committed" } }
        XCTAssertTrue(allOnV2, "after v2: \(h.snapshot())")

        _ = try await service.controlRollout(id: second.id, command: .rollback(hardwareClass: nil), actor: "bob")
        let allBack = try await h.eventually(90) { try h.running().values.allSatisfy { $0 == "1 committed" } }
        XCTAssertTrue(allBack, "after the rollback: \(h.snapshot())")
        let reverted = try h.store().devices().filter { $0.lastRollback?.reason.code == .rollbackDirective }.map(\.id).sorted()
        XCTAssertEqual(reverted, devices.keys.sorted(), "every device reverted by the signed directive")
    }

    func waitForStatus(_ h: ServiceHarness, _ id: String, in statuses: Set<String>, seconds: Double = 120) async throws -> APIRollout {
        let service = try XCTUnwrap(h.service)
        var last = try await service.rollout(id: id, actor: "tests")
        _ = try await h.eventually(seconds) {
            last = try await service.rollout(id: id, actor: "tests")
            return statuses.contains(last.status)
        }
        return last
    }
}
