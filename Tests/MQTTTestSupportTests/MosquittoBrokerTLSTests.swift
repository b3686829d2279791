import Foundation
import MQTTTestSupport
import XCTest

/// TLS listeners, checked with mosquitto_pub/mosquitto_sub and the generated certificates.
final class MosquittoBrokerTLSTests: XCTestCase {
    func testServerOnlyTLSWorksWithTheCAAndFailsWithAnotherCA() async throws {
        var options = MosquittoBroker.Options()
        options.tls = .serverOnly
        let broker = try await MosquittoBroker.start(options)
        let certificates = try XCTUnwrap(broker.certificates)
        let config = try String(contentsOf: broker.configurationFile, encoding: .utf8)
        XCTAssertTrue(config.contains("certfile \(certificates.serverCertificate.path)\n"), config)
        XCTAssertFalse(config.contains("require_certificate"), config)

        let trusting = MosquittoClient(broker, connection: ["--cafile", certificates.caCertificate.path])
        let (received, _) = try await trusting.roundTrip("tls/ok", "secure")
        XCTAssertEqual(received.status, 0, "\(received)\n\(broker.log)")
        XCTAssertEqual(received.output, "tls/ok secure\n")

        // The server certificate also names localhost, for clients that connect by name.
        let byName = try await MosquittoClient.run(
            "mosquitto_sub",
            [
                "-h", "localhost", "-p", String(broker.port), "-t", "tls/ok", "-C", "1", "-W", "1", "--cafile",
                certificates.caCertificate.path,
            ])
        XCTAssertFalse(byName.errors.contains("certificate verify failed"), "\(byName)")
        XCTAssertEqual(byName.status, 27, "connected by name and timed out waiting: \(byName)")

        let misled = MosquittoClient(broker, connection: ["--cafile", certificates.otherCACertificate.path])
        let refused = try await misled.subscribe("tls/#", seconds: 2)
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertEqual(refused.output, "")
        XCTAssertTrue(refused.errors.contains("TLS error"), "\(refused)")

        let plaintext = try await MosquittoClient(broker).subscribe("tls/#", seconds: 2)
        XCTAssertNotEqual(plaintext.status, 0, "a plaintext client got through a TLS listener: \(plaintext)")
    }

    func testClientCertificateRequired() async throws {
        var options = MosquittoBroker.Options()
        options.tls = .requireClientCertificate
        let broker = try await MosquittoBroker.start(options)
        let certificates = try XCTUnwrap(broker.certificates)
        let config = try String(contentsOf: broker.configurationFile, encoding: .utf8)
        XCTAssertTrue(config.contains("require_certificate true\n"), config)
        let ca = ["--cafile", certificates.caCertificate.path]

        let withoutCertificate = try await MosquittoClient(broker, connection: ca).subscribe("mtls/#", seconds: 2)
        XCTAssertNotEqual(withoutCertificate.status, 0, "\(withoutCertificate)")
        XCTAssertEqual(withoutCertificate.output, "")

        let client = MosquittoClient(
            broker, connection: ca + ["--cert", certificates.clientCertificate.path, "--key", certificates.clientKey.path])
        let (received, _) = try await client.roundTrip("mtls/ok", "mutual")
        XCTAssertEqual(received.status, 0, "\(received)\n\(broker.log)")
        XCTAssertEqual(received.output, "mtls/ok mutual\n")

        let extra = try certificates.makeClientCertificate(commonName: "device-42", in: broker.directory.appendingPathComponent("extra"))
        let second = MosquittoClient(broker, connection: ca + ["--cert", extra.certificate.path, "--key", extra.key.path])
        let (alsoReceived, _) = try await second.roundTrip("mtls/second", "ok")
        XCTAssertEqual(alsoReceived.output, "mtls/second ok\n", "\(alsoReceived)\n\(broker.log)")

        let forged = try certificates.makeUntrustedClientCertificate(
            commonName: "client", in: broker.directory.appendingPathComponent("forged"))
        let impostor = MosquittoClient(broker, connection: ca + ["--cert", forged.certificate.path, "--key", forged.key.path])
        let refused = try await impostor.subscribe("mtls/#", seconds: 2)
        XCTAssertNotEqual(refused.status, 0, "a certificate from an unrelated CA was accepted: \(refused)")
        XCTAssertEqual(refused.output, "")
    }
}
