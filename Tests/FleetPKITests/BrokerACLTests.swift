import FleetPKI
import Foundation
import MQTT
import XCTest

/// The shipped deploy/mosquitto config over real TLS, with certificates and ACL entries made by
/// `DeviceProvisioner`. Mosquitto drops a denied publish silently, so every "cannot" below is
/// asserted on what another client receives, behind a positive control that travels the same
/// path after it: if the denied message had gone through, it would arrive first.
final class BrokerACLTests: XCTestCase {
    static let avx2 = "x86_64-avx2"
    static let neon = "arm64-neon"
    static let digest = String(repeating: "ab", count: 32)

    var scratch: URL!
    var pki: PKIFixture!
    var broker: ShippedBroker!
    var deviceA: ProvisionedDevice!
    var deviceB: ProvisionedDevice!
    var deviceC: ProvisionedDevice!
    var coordinatorFiles: (certificate: URL, key: URL)!

    override func setUp() async throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-acl-\(UUID().uuidString.prefix(8))")
        pki = try PKIFixture(root: scratch)
        coordinatorFiles = try pki.client("coordinator-1")
        let pki = self.pki!
        var provisioned: [ProvisionedDevice] = []
        broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [pki.ca.certificatePEM], crlPEMs: [try pki.crlPEM()], server: pki.server
        ) {
            acl in
            provisioned = [
                try pki.provision("edge-a", hardwareClass: Self.avx2, acl: acl),
                try pki.provision("edge-b", hardwareClass: Self.avx2, acl: acl),
                try pki.provision("edge-c", hardwareClass: Self.neon, acl: acl),
            ]
        }
        (deviceA, deviceB, deviceC) = (provisioned[0], provisioned[1], provisioned[2])
    }

    override func tearDown() async throws {
        broker?.stop()
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    func topic(_ id: String, _ kind: String) -> String { "flotilla/v1/devices/\(id)/\(kind)" }
    func artifact(_ hardwareClass: String, _ kind: String) -> String { "flotilla/v1/artifacts/\(hardwareClass)/\(Self.digest)/\(kind)" }

    func coordinator() async throws -> (MQTTClient, Inbox) {
        try await broker.connect(broker.configuration("coordinator-1", certificate: coordinatorFiles))
    }

    func testDeviceCannotPublishAsAnotherDeviceAndCoordinatorReceivesEventsThroughShare() async throws {
        let (coordinator, events) = try await coordinator()
        try await coordinator.subscribe("$share/coordinators/flotilla/v1/devices/+/events")
        let (a, _) = try await broker.connect(broker.configuration(device: deviceA))

        // Forged first, then the control, on one connection: the broker handles them in order.
        try? await a.publish(topic: topic("edge-b", "events"), payload: Array("forged by a".utf8))
        try? await a.publish(topic: topic("edge-b", "state"), payload: Array("forged by a".utf8))
        try await a.publish(topic: topic("edge-a", "events"), payload: Array("control".utf8))
        let first = try await events.next()
        XCTAssertEqual(first.topic, topic("edge-a", "events"), "edge-a's publish on edge-b's topic reached the coordinator")
        XCTAssertEqual(first.text, "control")
    }

    func testDeviceCannotReadAnotherDevicesDesiredState() async throws {
        let (coordinator, _) = try await coordinator()
        let (a, inboxA) = try await broker.connect(broker.configuration(device: deviceA))
        // Mosquitto may refuse the SUBSCRIBE (v5 reason 0x87) or accept it and filter on
        // delivery; either way nothing of edge-b's may arrive.
        _ = try? await a.subscribe(topic("edge-b", "desired"))
        try await a.subscribe(topic("edge-a", "desired"))
        try await coordinator.publish(topic: topic("edge-b", "desired"), payload: Array("for b".utf8))
        try await coordinator.publish(topic: topic("edge-a", "desired"), payload: Array("for a".utf8))
        let first = try await inboxA.next()
        XCTAssertEqual(first.topic, topic("edge-a", "desired"))
        XCTAssertEqual(first.text, "for a")
    }

    func testDeviceCannotPublishDesiredStateOrChunks() async throws {
        let (coordinator, coordinatorInbox) = try await coordinator()
        try await coordinator.subscribe(topic("edge-a", "desired"))
        try await coordinator.subscribe(topic("edge-a", "events"))
        let (a, _) = try await broker.connect(broker.configuration(device: deviceA))
        try? await a.publish(topic: topic("edge-a", "desired"), payload: Array("self-granted".utf8))
        try? await a.publish(topic: topic("edge-b", "desired"), payload: Array("self-granted".utf8))
        try await a.publish(topic: topic("edge-a", "events"), payload: Array("control".utf8))
        let first = try await coordinatorInbox.next()
        XCTAssertEqual(first.topic, topic("edge-a", "events"), "a device published desired state")

        // Chunks: edge-b (same class) is the observer. Its control comes from the coordinator,
        // another connection, so edge-a's forged chunk is acknowledged first: Mosquitto routes
        // a publish to subscribers before it sends the PUBACK, on its one event-loop thread.
        let (b, inboxB) = try await broker.connect(broker.configuration(device: deviceB))
        try await b.subscribe(artifact(Self.avx2, "chunks"))
        try await b.subscribe(artifact(Self.avx2, "cancel"))
        // MQTT 5 lets Mosquitto answer the denied QoS 1 publish with PUBACK 0x87; recorded for
        // the failure message only, since the assertion is on what edge-b receives.
        var refusals: [String] = []
        for (kind, text) in [("chunks", "forged chunk"), ("cancel", "forged cancel")] {
            do { try await a.publish(topic: artifact(Self.avx2, kind), payload: Array(text.utf8)) } catch { refusals.append("\(error)") }
        }
        try await coordinator.publish(topic: artifact(Self.avx2, "chunks"), payload: Array("real chunk".utf8))
        try await coordinator.publish(topic: artifact(Self.avx2, "cancel"), payload: Array("real cancel".utf8))
        let chunk = try await inboxB.next()
        XCTAssertEqual(chunk.text, "real chunk", "refusals seen by edge-a: \(refusals)")
        let cancel = try await inboxB.next()
        XCTAssertEqual(cancel.text, "real cancel")
    }

    func testDeviceCannotReadAnotherClassesChunks() async throws {
        let (coordinator, _) = try await coordinator()
        let (c, inboxC) = try await broker.connect(broker.configuration(device: deviceC))
        _ = try? await c.subscribe(artifact(Self.avx2, "chunks"))
        _ = try? await c.subscribe("flotilla/v1/artifacts/#")
        try await c.subscribe(artifact(Self.neon, "chunks"))
        try await coordinator.publish(topic: artifact(Self.avx2, "chunks"), payload: Array("avx2 chunk".utf8))
        try await coordinator.publish(topic: artifact(Self.neon, "chunks"), payload: Array("neon chunk".utf8))
        let first = try await inboxC.next()
        XCTAssertEqual(first.topic, artifact(Self.neon, "chunks"), "an arm64-neon device read x86_64-avx2 chunks")
        XCTAssertEqual(first.text, "neon chunk")
    }

    /// A device connecting with the coordinator's client id gets its own id instead
    /// (`use_username_as_clientid`), so it cannot take over the coordinator's session.
    func testADeviceCannotTakeOverAnotherClientsSession() async throws {
        let (coordinator, inbox) = try await coordinator()
        try await coordinator.subscribe("$share/coordinators/flotilla/v1/devices/+/events")
        var hijack = broker.configuration(device: deviceA)
        hijack.clientID = "coordinator-1"
        let (a, _) = try await broker.connect(hijack)
        // Had the broker taken "coordinator-1" as the device's id, the coordinator would have
        // been disconnected and would receive nothing now.
        try await a.publish(topic: topic("edge-a", "events"), payload: Array("still here".utf8))
        let message = try await inbox.next()
        XCTAssertEqual(message.text, "still here")
        XCTAssertTrue(coordinator.isConnected)
    }

    func testClientsWithoutAFleetCertificateAreRefused() async throws {
        // No certificate at all.
        let anonymous = try MQTTClient(configuration: broker.configuration("nobody", certificate: nil))
        await assertRefused(anonymous)

        // A certificate with a device's name, from another CA.
        let stranger = try PKIFixture(root: scratch, name: "other-ca")
        let forged = try stranger.client("edge-a")
        let impostor = try MQTTClient(configuration: broker.configuration("edge-a", certificate: forged))
        await assertRefused(impostor)

        // Plain MQTT on the TLS port: the broker expects a TLS ClientHello and drops it.
        var plain = broker.configuration("plain", certificate: nil)
        plain.tls = nil
        plain.connectTimeout = .seconds(3)
        await assertRefused(try MQTTClient(configuration: plain), expected: [.connectionLost])
        // The broker names the TLS failure (the MQTT CONNECT bytes are no TLS record).
        var logged = false
        for _ in 0..<250 where !logged {
            logged = broker.logText.contains("wrong version number")
            if !logged { try await Task.sleep(for: .milliseconds(20)) }
        }
        XCTAssertTrue(logged, "the broker log does not show the TLS error:\n\(broker.logText)")

        // The positive control: the same broker lets a provisioned device in.
        let (a, _) = try await broker.connect(broker.configuration(device: deviceA))
        XCTAssertTrue(a.isConnected)
    }
}
