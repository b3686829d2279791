import FleetPKI
import Foundation
import MQTT
import XCTest

/// CA rotation (docs/security.md, "CA rotation") and the password listener, on the shipped
/// broker config.
final class BrokerRotationTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-rotation-\(UUID().uuidString.prefix(8))")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func events(_ id: String) -> String { "flotilla/v1/devices/\(id)/events" }

    /// During the transition the broker's ca.pem holds the old and the new CA: a device still
    /// on its old-CA certificate and one re-provisioned from the new CA both connect. After
    /// the old CA is removed (and the broker's certificate reissued by the new CA) only the
    /// re-provisioned device gets in.
    func testBrokerTrustingTheCABundleAcceptsOldAndNewCertificates() async throws {
        let old = try PKIFixture(root: scratch, name: "ca-2026")
        let new = try PKIFixture(root: scratch, name: "ca-2027")
        let coordinatorFiles = try new.client("coordinator-1")
        var devices: [ProvisionedDevice] = []
        let transition = try ShippedBroker(
            in: scratch.appendingPathComponent("broker-transition"), caPEMs: [old.ca.certificatePEM, new.ca.certificatePEM],
            crlPEMs: [try old.crlPEM(), try new.crlPEM()], server: old.server
        ) { acl in
            devices = [
                // Provisioned before the rotation began: old CA only... then given the bundle
                // as ca.pem in step 2 of the procedure (here: at provisioning).
                try old.provision("edge-old", hardwareClass: "x86_64-avx2", acl: acl, trust: [new.ca.certificateFile]),
                try new.provision("edge-new", hardwareClass: "x86_64-avx2", acl: acl, trust: [old.ca.certificateFile]),
            ]
        }
        let (coordinator, inbox) = try await transition.connect(transition.configuration("coordinator-1", certificate: coordinatorFiles))
        try await coordinator.subscribe("$share/coordinators/flotilla/v1/devices/+/events")
        for (device, id) in zip(devices, ["edge-old", "edge-new"]) {
            let (client, _) = try await transition.connect(transition.configuration(device: device))
            try await client.publish(topic: events(id), payload: Array("hello from \(id)".utf8))
            let message = try await inbox.next()
            XCTAssertEqual(message.topic, events(id))
            await client.disconnect()
        }
        transition.stop()

        // Old CA removed: ca.pem is the new CA alone, the broker's certificate is the new CA's.
        let after = try ShippedBroker(
            in: scratch.appendingPathComponent("broker-after"), caPEMs: [new.ca.certificatePEM], crlPEMs: [try new.crlPEM()],
            server: new.server
        ) { acl in
            try BrokerACL.append(deviceID: "edge-old", hardwareClass: "x86_64-avx2", to: acl)
            try BrokerACL.append(deviceID: "edge-new", hardwareClass: "x86_64-avx2", to: acl)
        }
        let (stillNew, _) = try await after.connect(after.configuration(device: devices[1]))
        XCTAssertTrue(stillNew.isConnected)
        let stale = try MQTTClient(configuration: after.configuration(device: devices[0]))
        do {
            try await stale.connect()
            XCTFail("a certificate of the removed CA was accepted")
        } catch let error as MQTTError {
            XCTAssertTrue([MQTTError.Code.tlsFailure, .connectionLost].contains(error.code), "\(error)")
        }
    }

    /// A device without a certificate: TLS for the broker's identity, then the generated
    /// password, against the line provisioning wrote for the broker's password file.
    func testPasswordDeviceConnectsOnThePasswordListenerUnderTheSameACL() async throws {
        let pki = try PKIFixture(root: scratch)
        let coordinatorFiles = try pki.client("coordinator-1")
        var device: ProvisionedDevice?
        var passwordLine = ""
        let staging = scratch.appendingPathComponent("staging-acl")
        try FileManager.default.copyItem(at: ShippedBroker.shippedDirectory.appendingPathComponent("acl.conf"), to: staging)
        device = try pki.provision("edge-pw", hardwareClass: "arm64-neon", acl: staging, password: true)
        let provisioned = try XCTUnwrap(device)
        XCTAssertNil(provisioned.certificate)
        passwordLine = try String(contentsOf: try XCTUnwrap(provisioned.passwordFileLine), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [pki.ca.certificatePEM], crlPEMs: [try pki.crlPEM()], server: pki.server,
            passwordLines: [passwordLine]
        ) { acl in
            try FileManager.default.removeItem(at: acl)
            try FileManager.default.copyItem(at: staging, to: acl)
        }
        let (coordinator, inbox) = try await broker.connect(broker.configuration("coordinator-1", certificate: coordinatorFiles))
        try await coordinator.subscribe("$share/coordinators/flotilla/v1/devices/+/events")

        let (client, _) = try await broker.connect(broker.configuration(device: provisioned))
        try? await client.publish(topic: events("edge-other"), payload: Array("forged".utf8))
        try await client.publish(topic: events("edge-pw"), payload: Array("control".utf8))
        let first = try await inbox.next()
        XCTAssertEqual(first.topic, events("edge-pw"), "the password device published as another device")

        var wrong = broker.configuration(device: provisioned)
        wrong.clientID = "edge-pw-wrong"
        wrong.password = "not-the-password"
        do {
            try await MQTTClient(configuration: wrong).connect()
            XCTFail("a wrong password was accepted")
        } catch let error as MQTTError {
            guard case .connectionRejected(let code) = error.code else { return XCTFail("\(error)") }
            XCTAssertTrue(code == 0x86 || code == 0x87 || code == 5, "reason \(code)")
        }
        // The certificate listener does not take passwords.
        var onCertificatePort = broker.configuration(device: provisioned)
        onCertificatePort.clientID = "edge-pw-8883"
        onCertificatePort.port = broker.certificatePort
        do {
            try await MQTTClient(configuration: onCertificatePort).connect()
            XCTFail("the certificate listener accepted a password client")
        } catch let error as MQTTError {
            XCTAssertTrue([MQTTError.Code.tlsFailure, .connectionLost].contains(error.code), "\(error)")
        }
    }
}

/// The operator steps docs/security.md prescribes: after provisioning, append and reload
/// (SIGHUP) — the ACL is re-read without dropping anyone; after changing ca.pem, restart —
/// Mosquitto 2.0 re-reads the certificate and key on SIGHUP, not the CA file.
final class BrokerReloadTests: XCTestCase {
    func testSIGHUPReloadsTheACLAndARestartTheCABundle() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-reload-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let old = try PKIFixture(root: scratch, name: "ca-old")
        let new = try PKIFixture(root: scratch, name: "ca-new")
        let coordinatorFiles = try old.client("coordinator-1")
        let broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [old.ca.certificatePEM], crlPEMs: [try old.crlPEM()], server: old.server)
        defer { broker.stop() }
        let (coordinator, _) = try await broker.connect(broker.configuration("coordinator-1", certificate: coordinatorFiles))
        let chunks = "flotilla/v1/artifacts/arm64-neon/\(String(repeating: "cd", count: 32))/chunks"

        // Provisioned while the broker runs: no class block is in effect until the reload.
        let device = try old.provision("edge-late", hardwareClass: "arm64-neon", acl: broker.acl)
        let (client, inbox) = try await broker.connect(broker.configuration(device: device))
        _ = try? await client.subscribe(chunks)
        try await client.subscribe("flotilla/v1/devices/edge-late/desired")
        try await coordinator.publish(topic: chunks, payload: Array("before reload".utf8))
        try await coordinator.publish(topic: "flotilla/v1/devices/edge-late/desired", payload: Array("control".utf8))
        let beforeReload = try await inbox.next()
        XCTAssertEqual(beforeReload.text, "control", "the class block was in effect before the reload")

        // A new-CA device is refused until ca.pem holds the bundle and the broker reloads.
        let newDevice = try new.provision("edge-new-ca", hardwareClass: "arm64-neon", acl: broker.acl, trust: [old.ca.certificateFile])
        do {
            try await MQTTClient(configuration: broker.configuration(device: newDevice)).connect()
            XCTFail("a new-CA certificate was accepted before the bundle was installed")
        } catch is MQTTError {}
        try Data((old.ca.certificatePEM + new.ca.certificatePEM).utf8).write(to: broker.caBundle)
        try Data((try old.crlPEM() + new.crlPEM()).utf8).write(to: broker.crl)

        try await broker.reloadAndWait()
        _ = try? await client.unsubscribe(chunks)
        try await client.subscribe(chunks)
        try await coordinator.publish(topic: chunks, payload: Array("after reload".utf8))
        let afterReload = try await inbox.next()
        XCTAssertEqual(afterReload.text, "after reload")

        await client.disconnect()
        await coordinator.disconnect()
        try broker.restart()
        let (reprovisioned, _) = try await broker.connect(broker.configuration(device: newDevice))
        XCTAssertTrue(reprovisioned.isConnected)
        let (stillOld, _) = try await broker.connect(broker.configuration(device: device))
        XCTAssertTrue(stillOld.isConnected, "the old CA's devices stay in during the transition")
    }
}
