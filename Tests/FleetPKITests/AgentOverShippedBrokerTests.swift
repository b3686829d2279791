import Agent
import FleetMQTT
import FleetPKI
import FleetProtocol
import Foundation
import MQTT
import XCTest

/// The real agent, configured by nothing but its provisioned agent.json, against the shipped
/// broker config: its connection (TLS client certificate, will on `online`), its retained
/// reports and its `desired` subscription all pass the ACL, and the coordinator identity
/// receives them through `$share`. The ACL tests prove what is denied; this proves the agent's
/// own traffic is not.
final class AgentOverShippedBrokerTests: XCTestCase {
    func testProvisionedAgentReportsToTheCoordinatorThroughTheShippedBroker() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-agent-tls-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let pki = try PKIFixture(root: scratch)
        let coordinatorFiles = try pki.client("coordinator-1")
        var device: ProvisionedDevice?
        let broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [pki.ca.certificatePEM], crlPEMs: [try pki.crlPEM()], server: pki.server
        ) {
            acl in device = try pki.provision("edge-agent", hardwareClass: "arm64-neon", acl: acl)
        }
        defer { broker.stop() }
        let provisioned = try XCTUnwrap(device)

        let (coordinator, inbox) = try await broker.connect(broker.configuration("coordinator-1", certificate: coordinatorFiles))
        try await coordinator.subscribe(Topics.sharedDeviceFilter(.online))
        try await coordinator.subscribe(Topics.sharedDeviceFilter(.state))

        // Installed as docs/security.md says (`tar -xzpf … -C /`), into a stand-in root; the
        // broker is on a test port.
        let root = scratch.appendingPathComponent("device-root")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        _ = try runTool("/usr/bin/tar", ["-xzpf", provisioned.tarball.path, "-C", root.path])
        let installed = root.appendingPathComponent("etc/flotilla").path
        let keyMode = try FileManager.default.attributesOfItem(atPath: installed + "/edge-agent.key")[.posixPermissions] as? Int
        XCTAssertEqual(keyMode, 0o600)
        var file = try JSONDecoder().decode(AgentConfigFile.self, from: Data(contentsOf: URL(fileURLWithPath: installed + "/agent.json")))
        func relocated(_ path: String) -> String { path.replacingOccurrences(of: "/etc/flotilla", with: installed) }
        file.tls = try XCTUnwrap(file.tls).relocated(relocated)
        file.pinnedKeyFiles = file.pinnedKeyFiles.map(relocated)
        file.brokerURL = "mqtts://127.0.0.1:\(broker.certificatePort)"
        file.dataDirectory = scratch.appendingPathComponent("agent-data").path
        let config = try file.resolve()

        let agent = try AgentService(config: config)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.deviceID, will: agent.nextConnectionWill)
        try await transport.connect()
        try await agent.start(transport: transport)

        var online: OnlineStatus?
        var state: DeviceStateReport?
        while online == nil || state == nil {
            let message = try await inbox.next()
            switch message.topic {
            case try Topics.device("edge-agent", .online):
                online = try MessageEnvelope.decode(OnlineStatus.self, from: Array(message.payload))
            case try Topics.device("edge-agent", .state):
                state = try MessageEnvelope.decode(DeviceStateReport.self, from: Array(message.payload))
            default: XCTFail("unexpected \(message.topic)")
            }
        }
        XCTAssertEqual(online?.online, true)
        XCTAssertEqual(online?.hardwareClass, "arm64-neon")
        XCTAssertEqual(state?.deviceID, "edge-agent")
        XCTAssertEqual(state?.hardwareClass, "arm64-neon")

        // Killed without DISCONNECT, the will (registered under the device's identity) is
        // published on its own online topic, which the ACL allows.
        transport.client.abort()
        var will: OnlineStatus?
        while will == nil {
            let message = try await inbox.next()
            guard message.topic == (try Topics.device("edge-agent", .online)) else { continue }
            let status = try MessageEnvelope.decode(OnlineStatus.self, from: Array(message.payload))
            if !status.online { will = status }
        }
        XCTAssertEqual(will?.connectionSequence, online?.connectionSequence, "the will names the connection that died")
        await agent.stop()
    }
}
