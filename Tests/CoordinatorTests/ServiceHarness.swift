import Agent
import Coordinator
import FleetMQTT
import FleetProtocol
import FleetTestSupport
import Foundation
import MQTT
import MQTTTestSupport
import ModelArtifact
import ModelIR
import TestSupport
import XCTest

/// A real broker (Mosquitto unless another is given), a real `CoordinatorService` on a SQLite
/// store, and real agents (each with its own MQTT connection and data directory), all in this
/// test process. Every MQTT client speaks `mqttProtocol`.
final class ServiceHarness: @unchecked Sendable {
    static let classes = ["x86_64-avx2", "arm64-dotprod"]
    let broker: any TestBroker
    let mqttProtocol: BrokerProtocol
    let root: URL
    var coordinatorData: URL { root.appendingPathComponent("coordinator") }
    var service: CoordinatorService?
    var serviceTransport: MQTTTransport?
    var agents: [String: WorkingAgent] = [:]

    convenience init() async throws {
        try await self.init(broker: try await MosquittoBroker.start())
    }

    /// Takes over `broker`: `shutdown()` stops it.
    init(broker: any TestBroker, mqttProtocol: BrokerProtocol = .v5) async throws {
        self.broker = broker
        self.mqttProtocol = mqttProtocol
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "coord-service-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    var brokerConfig: BrokerConfig { BrokerConfig(host: broker.host, port: broker.port, mqttProtocol: mqttProtocol) }

    func config() throws -> CoordinatorConfig {
        try CoordinatorConfig(
            dataDirectory: coordinatorData, broker: brokerConfig, clientID: "coordinator-test",
            httpPort: 0, apiTokens: ["alice": "alice-token-0123456789"], chunkSize: 4096, telemetryBucketSeconds: 1,
            hardwareClassDirectory: root, tickSeconds: 0.2)
    }

    /// Starts (or restarts, on the same data directory) the coordinator.
    @discardableResult
    func startCoordinator() async throws -> CoordinatorService {
        let config = try config()
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.clientID)
        try await transport.connect()
        let service = try CoordinatorService(config: config, store: store, transport: transport)
        try await service.start()
        self.service = service
        serviceTransport = transport
        return service
    }

    /// Stops the coordinator as a crash would leave it: loops cancelled, connection dropped.
    func killCoordinator() async {
        await service?.stop()
        serviceTransport?.client.abort()
        service = nil
        serviceTransport = nil
    }

    func store() throws -> SQLiteStore { try SQLiteStore(dataDirectory: coordinatorData) }

    func pinnedKeys() throws -> [ArtifactPublicKey] { try SigningKeyring.open(dataDirectory: coordinatorData).publicKeys }

    /// A device of `hardwareClass` running a synthetic workload (one inference every 5 ms), so
    /// its telemetry carries real latencies.
    func startAgent(_ id: String, hardwareClass: String, faults: FaultInjection = .none) async throws {
        let config = try AgentConfig(
            deviceID: id, broker: brokerConfig,
            dataDirectory: root.appendingPathComponent("agents/\(id)"), hardwareClass: hardwareClass, pinnedKeys: try pinnedKeys(),
            thresholds: ValidationThresholds(latencyRuns: 3), telemetryIntervalSeconds: 1, stallTimeoutMs: 1000, faults: faults,
            // These tests are about the coordinator's gates. The agent's own post-commit latency
            // check compares live p95 with a 3-run validation p95: on a loaded 2-core machine
            // that alone rolled devices back. It keeps its error-rate check; the latency check
            // has its own tests (AgentTests' TrialWatchTests).
            watchdog: WatchdogThresholds(latencyTolerance: 1000))
        agents[id] = try await WorkingAgent.start(config)
    }

    /// Takes a device off the network (clean stop: it reports offline).
    func stopAgent(_ id: String) async {
        await agents.removeValue(forKey: id)?.stop()
    }

    func shutdown() async {
        for id in Array(agents.keys) { await stopAgent(id) }
        await service?.stop()
        await serviceTransport?.disconnect()
        try? await broker.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// Registers a ready release of a tiny classifier for every class (what `model add` leaves
    /// in the store and the data directory), signed with the coordinator's key.
    func addRelease(version: String, seed: UInt64 = 1) throws -> ReleaseRecord {
        try FleetRelease.add(version: version, classes: Self.classes, coordinatorData: coordinatorData, seed: seed)
    }

    /// Polls until `condition` holds or `seconds` pass (a deadline, not a timing assertion).
    func eventually(_ seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
        try await TestSupport.eventually(seconds, every: .milliseconds(200), condition)
    }

    /// `running()` as text for failure messages.
    func snapshot() -> String {
        guard let r = try? running() else { return "(registry unreadable)" }
        return r.keys.sorted().map { "\($0): \(r[$0] ?? "")" }.joined(separator: ", ")
    }

    /// What each device reports running (version, status), from the coordinator's registry.
    func running() throws -> [String: String] {
        var out: [String: String] = [:]
        for d in try store().devices() { out[d.id] = d.running.map { "\($0.modelVersion) \($0.status.rawValue)" } ?? "-" }
        return out
    }
}
