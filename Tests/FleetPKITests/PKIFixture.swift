import FleetPKI
import Foundation
import MQTT
import XCTest

/// A fleet CA in a scratch directory, with the broker's certificate and device bundles made by
/// the provisioning code under test.
struct PKIFixture {
    let root: URL
    let ca: CertificateAuthority
    let server: IssuedCertificate

    init(root: URL, name: String = "ca") throws {
        self.root = root
        ca = try CertificateAuthority.create(in: root.appendingPathComponent(name), commonName: "Flotilla Test CA \(name)")
        server = try ca.issue(.server(names: ["127.0.0.1", "localhost"]))
    }

    /// The CA's current revocation list (PEM), as the broker's crl.pem holds it.
    func crlPEM() throws -> String { try String(contentsOf: ca.crlFile, encoding: .utf8) }

    /// The coordinator public key devices pin (the agent refuses to start without one).
    func coordinatorKeyFile() throws -> URL {
        let url = root.appendingPathComponent("coordinator-signing.pub.pem")
        if !FileManager.default.fileExists(atPath: url.path) {
            try Data(ProvisioningTests.coordinatorPublicKeyPEM.utf8).write(to: url)
        }
        return url
    }

    /// A client certificate written under root/clients/ (coordinators, strangers).
    func client(_ commonName: String) throws -> (certificate: URL, key: URL) {
        try ca.issue(.client(commonName: commonName)).write(
            to: root.appendingPathComponent("clients-\(ca.directory.lastPathComponent)"), stem: commonName)
    }

    /// Provisions a device into root/bundles/, appending its ACL block to `acl` when given.
    func provision(_ id: String, hardwareClass: String, acl: URL? = nil, password: Bool = false, trust: [URL] = []) throws
        -> ProvisionedDevice
    {
        var request = ProvisionRequest(
            deviceID: id, hardwareClass: hardwareClass, caDirectory: ca.directory,
            outputDirectory: root.appendingPathComponent("bundles-\(ca.directory.lastPathComponent)"))
        request.brokerURL = password ? "mqtts://127.0.0.1:8884" : "mqtts://127.0.0.1:8883"
        request.aclFile = acl
        request.password = password
        request.extraTrustedCAs = trust
        request.coordinatorKeys = [try coordinatorKeyFile()]
        return try DeviceProvisioner.provision(request)
    }
}

/// Client configurations for the shipped broker.
extension ShippedBroker {
    func configuration(_ clientID: String, certificate: (certificate: URL, key: URL)?, caFile: URL? = nil) -> MQTTConfiguration {
        var c = MQTTConfiguration(host: "127.0.0.1", port: certificatePort, clientID: clientID)
        c.protocolVersion = .v5
        c.connectTimeout = .seconds(5)
        c.reconnect.enabled = false
        c.tls = .init(caFile: (caFile ?? caBundle).path, certificateFile: certificate?.certificate.path, keyFile: certificate?.key.path)
        return c
    }

    /// A device from its provisioned bundle: the files the agent config names, found in the
    /// bundle instead of under /etc/flotilla.
    func configuration(device: ProvisionedDevice) -> MQTTConfiguration {
        let installed = device.agentConfig.deletingLastPathComponent()
        let id = device.directory.lastPathComponent
        if let password = try? String(contentsOf: installed.appendingPathComponent("broker-password"), encoding: .utf8) {
            var c = configuration(id, certificate: nil, caFile: installed.appendingPathComponent("ca.pem"))
            c.port = passwordPort
            c.username = id
            c.password = password.trimmingCharacters(in: .whitespacesAndNewlines)
            return c
        }
        return configuration(
            id, certificate: (installed.appendingPathComponent("\(id).crt"), installed.appendingPathComponent("\(id).key")),
            caFile: installed.appendingPathComponent("ca.pem"))
    }

    func connect(_ configuration: MQTTConfiguration) async throws -> (MQTTClient, Inbox) {
        let client = try MQTTClient(configuration: configuration)
        let inbox = Inbox(client)
        try await client.connect()
        return (client, inbox)
    }
}

/// Reads one client's messages in order (one reader per client).
final class Inbox: @unchecked Sendable {
    // Proof: the iterator is used by one test task at a time, never concurrently.
    private var iterator: AsyncStream<MQTTMessage>.Iterator

    init(_ client: MQTTClient) { iterator = client.messages.makeAsyncIterator() }

    /// The next message; fails the test after `timeout` seconds (a safety net, not an assertion
    /// on time).
    func next(timeout: Double = 15) async throws -> MQTTMessage {
        try await withThrowingTaskGroup(of: MQTTMessage?.self) { group in
            group.addTask { await self.iterator.next() }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let message = first else {
                throw ShippedBrokerError("no message within \(timeout) s")
            }
            return message
        }
    }
}

extension MQTTMessage {
    var text: String { String(decoding: payload, as: UTF8.self) }
}

extension XCTestCase {
    /// The client's CONNECT fails the way a refused TLS client's does.
    func assertRefused(
        _ client: MQTTClient, expected: [MQTTError.Code] = [.tlsFailure, .connectionLost], file: StaticString = #filePath,
        line: UInt = #line
    ) async {
        do {
            try await client.connect()
            XCTFail("\(client.configuration.clientID) connected", file: file, line: line)
        } catch let error as MQTTError {
            XCTAssertTrue(expected.contains(error.code), "unexpected \(error)", file: file, line: line)
        } catch {
            XCTFail("expected an MQTTError, got \(error)", file: file, line: line)
        }
    }
}
