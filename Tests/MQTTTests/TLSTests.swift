import MQTT
import MQTTTestSupport
import XCTest

final class TLSTests: XCTestCase {
    func testTLSWithTheBrokersCAWorksAndAnotherCAIsRefused() async throws {
        var options = MosquittoBroker.Options()
        options.tls = .serverOnly
        let broker = try await MosquittoBroker.start(options)
        let certs = try XCTUnwrap(broker.certificates)

        var good = broker.configuration("tls-good")
        good.tls = .init(caFile: certs.caCertificate.path)
        let client = try MQTTClient(configuration: good)
        try await client.connect()
        let inbox = Inbox(client)
        try await client.subscribe("tls/x")
        try await client.publish(topic: "tls/x", payload: Array("secret".utf8))
        let awaited = try await inbox.next(1)[0].bytes
        XCTAssertEqual(awaited, Array("secret".utf8))
        await client.disconnect()

        var bad = broker.configuration("tls-bad")
        bad.tls = .init(caFile: certs.otherCACertificate.path)
        let refused = try MQTTClient(configuration: bad)
        await expectMQTTError({ try await refused.connect() }) { e in
            e.code == .tlsFailure && e.message.contains("TLS")
        }

        // Plain MQTT against the TLS listener never completes a handshake.
        var plain = broker.configuration("tls-plain")
        plain.connectTimeout = .seconds(2)
        plain.reconnect.enabled = false
        let plainClient = try MQTTClient(configuration: plain)
        await expectMQTTError({ try await plainClient.connect() }) { e in
            e.code == .timedOut || e.code == .connectionLost
        }
    }

    func testClientCertificateRequired() async throws {
        var options = MosquittoBroker.Options()
        options.tls = .requireClientCertificate
        let broker = try await MosquittoBroker.start(options)
        let certs = try XCTUnwrap(broker.certificates)

        var without = broker.configuration("nocert")
        without.tls = .init(caFile: certs.caCertificate.path)
        let refused = try MQTTClient(configuration: without)
        await expectMQTTError({ try await refused.connect() }) { e in
            e.code == .tlsFailure || e.code == .connectionLost
        }

        var with = broker.configuration("withcert")
        with.tls = .init(caFile: certs.caCertificate.path, certificateFile: certs.clientCertificate.path, keyFile: certs.clientKey.path)
        let client = try MQTTClient(configuration: with)
        try await client.connect()
        XCTAssertTrue(client.isConnected)
        await client.disconnect()
    }
}
