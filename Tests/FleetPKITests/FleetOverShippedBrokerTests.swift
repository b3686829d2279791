import Agent
import Coordinator
import FleetMQTT
import FleetPKI
import FleetTestSupport
import Foundation
import MQTT
import TestSupport
import XCTest

/// A whole rollout through the shipped broker config: the real coordinator as `coordinator-1`
/// (client certificate), two real agents configured only by their provisioned bundles (one per
/// class, pinning the keys `keys export` wrote), desired state, chunks, chunk requests, events
/// and telemetry all under the shipped ACL. The per-rule tests prove what is denied; this
/// proves the protocol still fits through what is allowed.
final class FleetOverShippedBrokerTests: XCTestCase {
    static let classes = ["x86_64-avx2", "arm64-dotprod"]

    func testARolloutCompletesUnderTheShippedACL() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-fleet-tls-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let coordinatorData = scratch.appendingPathComponent("coordinator")
        // The coordinator's signing keys exist before devices are provisioned: their bundles pin
        // what `flotilla-coordinator keys export` prints.
        let keyring = try SigningKeyring.open(dataDirectory: coordinatorData)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let exported = scratch.appendingPathComponent("coordinator-keys.pem")
        try Data(keyring.publicKeysPEM().utf8).write(to: exported)

        let pki = try PKIFixture(root: scratch)
        let coordinatorFiles = try pki.client("coordinator-1")
        var devices: [ProvisionedDevice] = []
        let broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [pki.ca.certificatePEM], crlPEMs: [try pki.crlPEM()], server: pki.server
        ) {
            acl in
            for (index, hardwareClass) in Self.classes.enumerated() {
                var request = ProvisionRequest(
                    deviceID: "edge-\(index)", hardwareClass: hardwareClass, caDirectory: pki.ca.directory,
                    outputDirectory: scratch.appendingPathComponent("bundles"))
                request.brokerURL = "mqtts://127.0.0.1:8883"
                request.coordinatorKeys = [exported]
                request.aclFile = acl
                devices.append(try DeviceProvisioner.provision(request))
            }
        }
        defer { broker.stop() }

        let brokerConfig = BrokerConfig(
            host: "127.0.0.1", port: broker.certificatePort, useTLS: true, caFile: broker.caBundle.path,
            certificateFile: coordinatorFiles.certificate.path, keyFile: coordinatorFiles.key.path)
        let config = try CoordinatorConfig(
            dataDirectory: coordinatorData, broker: brokerConfig, clientID: "coordinator-1", httpPort: 0,
            apiTokens: ["alice": "alice-token-0123456789"], chunkSize: 4096, telemetryBucketSeconds: 1, hardwareClassDirectory: scratch,
            tickSeconds: 0.2)
        let coordinatorTransport = try MQTTTransport(broker: config.broker, clientID: config.clientID)
        try await coordinatorTransport.connect()
        let service = try CoordinatorService(
            config: config, store: try SQLiteStore(dataDirectory: coordinatorData), transport: coordinatorTransport)
        try await service.start()

        var agents: [WorkingAgent] = []
        for device in devices {
            var file = try JSONDecoder().decode(AgentConfigFile.self, from: Data(contentsOf: device.agentConfig))
            let installed = device.agentConfig.deletingLastPathComponent().path
            func relocated(_ path: String) -> String { path.replacingOccurrences(of: "/etc/flotilla", with: installed) }
            file.tls = try XCTUnwrap(file.tls).relocated(relocated)
            file.pinnedKeyFiles = file.pinnedKeyFiles.map(relocated)
            file.brokerURL = "mqtts://127.0.0.1:\(broker.certificatePort)"
            file.dataDirectory = scratch.appendingPathComponent("agents/\(file.deviceId)").path
            // Test pacing only: the rollout gate waits for telemetry.
            file.telemetryIntervalSeconds = 1
            file.thresholds = ValidationThresholds(latencyRuns: 3)
            agents.append(try await WorkingAgent.start(try file.resolve()))
        }

        let store = try SQLiteStore(dataDirectory: coordinatorData)
        let registered = try await eventually(30) { try store.devices().count == 2 }
        let registeredIDs = try store.devices().map(\.id)
        XCTAssertTrue(registered, "devices registered: \(registeredIDs)")

        _ = try FleetRelease.add(version: "1", classes: Self.classes, coordinatorData: coordinatorData)
        let gate = APIGateOptions(minDevices: 1, minSuccessRate: 1, maxP95Ratio: 3, maxAccuracyDrop: 0.05, gateTimeoutSeconds: 60)
        let started = try await service.startRollout(
            APIRolloutRequest(modelName: "digits", version: "1", target: "", waves: [1], soakSeconds: 1, gate: gate), actor: "alice")
        var rollout = try await service.rollout(id: started.id, actor: "tests")
        _ = try await eventually(120) {
            rollout = try await service.rollout(id: started.id, actor: "tests")
            return ["completed", "completedWithHaltedClasses", "halted", "rolledBack"].contains(rollout.status)
        }
        XCTAssertEqual(rollout.status, "completed", "\(rollout.classes.map { "\($0.hardwareClass) \($0.status) \($0.reason ?? "")" })")
        for a in agents {
            let serving = await a.agent.servingRelease
            XCTAssertEqual(serving, 1)
        }

        for a in agents { await a.stop() }
        await service.stop()
        await coordinatorTransport.disconnect()
    }
}
