import Coordinator
import FleetMQTT
import FleetProtocol
import Foundation
import TestSupport
import XCTest

/// One device flooding its telemetry topic, garbage and oversized payloads, and payloads that
/// name another device, against the real `CoordinatorService` and SQLite store on the
/// in-memory broker (a real Mosquitto would add its own queue limits, which would make "every
/// honest summary arrives" a property of the broker's configuration, not of the coordinator).
final class IngestFloodTests: XCTestCase {
    var root: URL?
    var service: CoordinatorService?

    override func tearDown() async throws {
        await service?.stop()
        if let root { try? FileManager.default.removeItem(at: root) }
    }

    static let budget = IngestBudget(messagesPerSecond: 1, burst: 20)

    func start() async throws -> (CoordinatorService, SQLiteStore, InMemoryBroker) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ingest-flood-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let config = try CoordinatorConfig(
            dataDirectory: root.appendingPathComponent("coordinator"), broker: BrokerConfig(host: "127.0.0.1", port: 1),
            apiTokens: ["alice": "alice-token-0123456789"], telemetryBucketSeconds: 1, hardwareClassDirectory: root,
            ingestBudget: Self.budget)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let broker = InMemoryBroker()
        let transport = broker.client("coordinator")
        await transport.connect()
        let service = try CoordinatorService(config: config, store: store, transport: transport)
        try await service.start()
        self.service = service
        return (service, store, broker)
    }

    static func digest(_ device: String) -> String {
        Array(device.utf8).map { String(format: "%02x", $0) }.joined().padding(toLength: 64, withPad: "0", startingAt: 0)
    }

    static func summary(_ device: String, sequence: UInt64, nowMs: Int64) -> TelemetrySummary {
        var histogram = LatencyHistogram()
        histogram.record(1000 + sequence)
        return TelemetrySummary(
            deviceID: device, sequence: sequence, windowStartMs: nowMs - 1000, windowEndMs: nowMs, artifactDigest: digest(device),
            releaseSequence: 1, state: "committed", latencyUs: histogram, inferences: 3, errors: 0, rssBytes: 1 << 20)
    }

    /// Reads one counter sample from `/metrics` text (0 when absent).
    static func sample(_ metrics: String, _ name: String, _ label: String) -> Int {
        let prefix = "\(name){\(label)} "
        guard let line = metrics.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return 0 }
        return Int(Double(line.dropFirst(prefix.count)) ?? 0)
    }

    func testAFloodingDeviceIsLimitedAndCountedWhileEveryOtherDevicesTelemetryIsAggregated() async throws {
        let (service, store, broker) = try await start()
        let honest = (0..<8).map { "dev-\($0)" }
        let flooder = "dev-flood"
        let perHonest = 12, flood = 5000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var clients: [String: InMemoryTransport] = [:]
        for id in honest + [flooder] {
            let c = broker.client(id)
            await c.connect()
            clients[id] = c
            let report = DeviceStateReport(
                deviceID: id, hardwareClass: "x86_64-avx2", agentVersion: "1", sequence: 1, reportedAtMs: now, running: nil, phase: "idle")
            try await c.publish(
                topic: try Topics.device(id, .state), payload: MessageEnvelope.encode(report), qos: .atLeastOnce, retain: true)
        }
        let registered = try await eventually(60) { try store.devices().count == honest.count + 1 }
        XCTAssertTrue(registered)

        // The flood and the honest devices' telemetry interleaved, as on a shared subscription.
        let floodClient = try XCTUnwrap(clients[flooder])
        let floodTopic = try Topics.device(flooder, .telemetry)
        for i in 0..<flood {
            let payload = MessageEnvelope.encode(Self.summary(flooder, sequence: UInt64(i + 1), nowMs: now))
            try await floodClient.publish(topic: floodTopic, payload: payload, qos: .atLeastOnce, retain: false)
            if i % (flood / perHonest) == 0, i / (flood / perHonest) < perHonest {
                let n = UInt64(i / (flood / perHonest) + 1)
                for id in honest {
                    let payload = MessageEnvelope.encode(Self.summary(id, sequence: n, nowMs: now))
                    try await clients[id]?.publish(
                        topic: try Topics.device(id, .telemetry), payload: payload, qos: .atLeastOnce, retain: false)
                }
            }
        }
        let total = flood + perHonest * honest.count
        var metrics = ""
        let drained = try await eventually(60) {
            metrics = try await service.prometheusMetrics(actor: nil)
            let applied = Self.sample(metrics, "flotilla_coordinator_messages_total", #"kind="telemetry""#)
            let limited = Self.sample(metrics, "flotilla_coordinator_messages_dropped_total", #"reason="rateLimited""#)
            return applied + limited == total
        }
        XCTAssertTrue(drained, metrics)
        await service.stop()  // flushes the pending telemetry into the store
        self.service = nil

        let since = now - 3_600_000
        for id in honest {
            let t = try XCTUnwrap(
                try store.telemetryTotals(artifactDigest: Self.digest(id), hardwareClass: "x86_64-avx2", sinceMs: since), id)
            XCTAssertEqual(t.summaries, UInt64(perHonest), "\(id): every summary aggregated")
            XCTAssertEqual(t.inferences, UInt64(3 * perHonest))
        }
        let limited = Self.sample(metrics, "flotilla_coordinator_messages_dropped_total", #"reason="rateLimited""#)
        XCTAssertEqual(Self.sample(metrics, "flotilla_coordinator_messages_rate_limited_total", #"kind="telemetry""#), limited)
        let floodTotals = try XCTUnwrap(
            try store.telemetryTotals(artifactDigest: Self.digest(flooder), hardwareClass: "x86_64-avx2", sinceMs: since))
        XCTAssertEqual(Int(floodTotals.summaries) + limited, flood, "every flooded summary is either aggregated or counted as dropped")
        // The burst, plus one per second the test ran: far below the flood whatever the speed
        // of the machine (5000 summaries would need 83 minutes at this budget).
        XCTAssertGreaterThanOrEqual(Int(floodTotals.summaries), Int(Self.budget.burst))
        XCTAssertGreaterThan(limited, flood / 2)
        // One bucket per (device, topic kind) seen: state and telemetry of 9 devices.
        XCTAssertTrue(metrics.contains("flotilla_coordinator_ingest_buckets \((honest.count + 1) * 2)\n"), metrics)
    }

    /// Garbage, oversized and misaddressed payloads: dropped and counted by reason, and the
    /// service still ingests the next good message.
    func testGarbageOversizedAndMisaddressedPayloadsAreCountedAndDropped() async throws {
        let (service, store, broker) = try await start()
        let c = broker.client("dev-bad")
        await c.connect()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let topic = try Topics.device("dev-bad", .telemetry)
        var rng = SplitMix64(seed: 11)
        let oversized = [UInt8](repeating: UInt8(ascii: " "), count: MessageEnvelope.maxMessageBytes + 1)
        var garbage: [[UInt8]] = [
            oversized, [], Array("{\"v\":\"1.0\"".utf8), Array("{\"v\":\"9.0\",\"type\":\"telemetry\",\"body\":{}}".utf8),
        ]
        for length in [1, 7, 100, 4096] { garbage.append((0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        for payload in garbage { try await c.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: false) }
        // Telemetry and a state report naming another device than the topic's.
        try await c.publish(
            topic: topic, payload: MessageEnvelope.encode(Self.summary("dev-victim", sequence: 1, nowMs: now)), qos: .atLeastOnce,
            retain: false)
        let spoof = DeviceStateReport(
            deviceID: "dev-victim", hardwareClass: "x86_64-avx2", agentVersion: "1", sequence: 9, reportedAtMs: now, running: nil,
            phase: "idle")
        try await c.publish(
            topic: try Topics.device("dev-bad", .state), payload: MessageEnvelope.encode(spoof), qos: .atLeastOnce, retain: false)
        // Then a good one.
        let good = DeviceStateReport(
            deviceID: "dev-bad", hardwareClass: "x86_64-avx2", agentVersion: "1", sequence: 1, reportedAtMs: now, running: nil,
            phase: "idle")
        try await c.publish(
            topic: try Topics.device("dev-bad", .state), payload: MessageEnvelope.encode(good), qos: .atLeastOnce, retain: false)

        var metrics = ""
        let counted = try await eventually(60) {
            metrics = try await service.prometheusMetrics(actor: nil)
            return Self.sample(metrics, "flotilla_coordinator_messages_total", #"kind="state""#) == 1
                && Self.sample(metrics, "flotilla_coordinator_messages_dropped_total", #"reason="wrongDevice""#) == 2
                // The empty payload is a cleared topic, not an error; every other piece of
                // garbage (the oversized one included) is malformed.
                && Self.sample(metrics, "flotilla_coordinator_messages_dropped_total", #"reason="malformed""#) == garbage.count - 1
        }
        XCTAssertTrue(counted, metrics)
        XCTAssertEqual(try store.devices().map(\.id), ["dev-bad"])
        XCTAssertNil(try store.device("dev-victim"))
    }

    func testTheDecoderRefusesAnOversizedPayloadBeforeParsingIt() throws {
        let topic = try Topics.device("d1", .events)
        // Valid JSON inside, but over the cap: refused on size alone.
        let body = String(repeating: "x", count: MessageEnvelope.maxMessageBytes)
        let payload = Array(#"{"v":"1.0","type":"deviceEvent","body":{"pad":"\#(body)"}}"#.utf8)
        XCTAssertThrowsError(try DeviceMessageDecoder.decode(topic: topic, payload: payload)) { error in
            let e = error as? IngestError
            XCTAssertEqual(e?.reason, .malformed)
            XCTAssertTrue(e?.detail.contains("exceeds") ?? false, "\(error)")
        }
    }
}
