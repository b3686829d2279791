import MQTT
import MQTTTestSupport
import XCTest

final class ConnectionTests: XCTestCase {
    func testLastWillFiresWhenConnectionDiesWithoutDisconnect() async throws {
        let broker = try await MosquittoBroker.start()
        let watcher = try await broker.connectedClient("will-watcher")
        let inbox = Inbox(watcher)
        try await watcher.subscribe("devices/+/status")
        var c = broker.configuration("will-device")
        c.will = MQTTMessage(topic: "devices/will-device/status", payload: Array("offline".utf8), qos: .atLeastOnce, retain: true)
        let device = try MQTTClient(configuration: c)
        try await device.connect()
        try await device.publish(topic: "devices/will-device/status", payload: Array("online".utf8), retain: true)
        let awaited = try await inbox.next(1)[0].bytes
        XCTAssertEqual(awaited, Array("online".utf8))
        device.abort()
        let will = try await inbox.next(1)[0]
        XCTAssertEqual(will.topic, "devices/will-device/status")
        XCTAssertEqual(will.bytes, Array("offline".utf8))
    }

    func testGracefulDisconnectDoesNotFireWill() async throws {
        let broker = try await MosquittoBroker.start()
        let watcher = try await broker.connectedClient("nowill-watcher")
        let inbox = Inbox(watcher)
        try await watcher.subscribe("nowill/#")
        var c = broker.configuration("nowill-device")
        c.will = MQTTMessage(topic: "nowill/status", payload: Array("offline".utf8))
        let device = try MQTTClient(configuration: c)
        try await device.connect()
        await device.disconnect()
        // The broker handles the DISCONNECT before this marker's CONNECT-publish sequence
        // completes; a will would have been queued to the watcher ahead of the marker.
        let other = try await broker.connectedClient("nowill-marker")
        try await other.publish(topic: "nowill/marker", payload: [])
        let awaited = try await inbox.next(1)[0].topic
        XCTAssertEqual(awaited, "nowill/marker")
    }

    func testBrokerRestartResumesPersistentSessionWithQueuedMessages() async throws {
        var options = MosquittoBroker.Options()
        options.persistence = true
        let broker = try await MosquittoBroker.start(options)
        var c = broker.configuration("persistent-sub")
        c.cleanSession = false
        c.sessionExpiry = 3600
        // Slow first retry, so the publisher below reaches the restarted broker first and the
        // messages are queued for the offline session rather than delivered live.
        c.reconnect.initialDelay = .seconds(3)
        c.reconnect.maximumDelay = .seconds(3)
        c.reconnect.jitter = 0
        let sub = try MQTTClient(configuration: c)
        let sessionPresent = try await sub.connect()
        XCTAssertFalse(sessionPresent)
        try await sub.subscribe("queued/#", qos: .atLeastOnce)
        let inbox = Inbox(sub)

        try await broker.stop()
        try await broker.restart()
        let pub = try await broker.connectedClient("persistent-pub")
        for i in 0..<5 { try await pub.publish(topic: "queued/\(i)", payload: [UInt8(i)], qos: .atLeastOnce) }
        XCTAssertFalse(sub.isConnected, "the subscriber reconnected before the messages were queued; the test proves nothing")

        let got = try await inbox.next(5, timeout: 30)
        XCTAssertEqual(got.map(\.topic), (0..<5).map { "queued/\($0)" })
        XCTAssertTrue(sub.isConnected)
        // Live traffic flows on the resumed session too.
        try await pub.publish(topic: "queued/live", payload: [9])
        let live = try await inbox.next(1)[0].topic
        XCTAssertEqual(live, "queued/live")
    }

    func testCleanSessionClientResubscribesAfterBrokerRestart() async throws {
        let broker = try await MosquittoBroker.start()
        let sub = try await broker.connectedClient("resub")
        let inbox = Inbox(sub)
        let events = sub.connectionEvents
        try await sub.subscribe("resub/x")
        try await broker.stop()
        try await broker.restart()
        // Wait for the second CONNACK (the broker lost all state: no session present).
        try await withTimeout(20, "reconnect") {
            var connects = 0
            for await e in events {
                if case .connected(let present) = e {
                    connects += 1
                    XCTAssertFalse(present)
                    if connects == 2 { break }
                }
            }
        }
        let pub = try await broker.connectedClient("resub-pub")
        try await pub.publish(topic: "resub/x", payload: Array("after".utf8))
        let awaited = try await inbox.next(1)[0].bytes
        XCTAssertEqual(awaited, Array("after".utf8))
    }

    func testDroppedConnectionReconnectsAndDeliversMessagesPublishedMeanwhile() async throws {
        let broker = try await MosquittoBroker.start()
        let sub = try await broker.connectedClient("drop-sub")
        let inbox = Inbox(sub)
        try await sub.subscribe("drop/#")
        let pub = try await broker.connectedClient("drop-pub")
        pub.dropConnection()
        // Published while the publisher's connection is down: queued, sent after reconnect, and
        // each publish completes only once the broker acknowledged it.
        try await withTimeout(20, "publishes across a dropped connection") {
            for i in 0..<20 { try await pub.publish(topic: "drop/\(i)", payload: [UInt8(i)], qos: .atLeastOnce) }
        }
        let got = try await inbox.next(20)
        XCTAssertEqual(got.map(\.topic), (0..<20).map { "drop/\($0)" })
    }

    func testWrongPasswordIsAClearRejection() async throws {
        var options = MosquittoBroker.Options()
        options.users = ["device-1": "correct horse"]
        let broker = try await MosquittoBroker.start(options)
        for version in [MQTTProtocolVersion.v5, .v311] {
            var c = broker.configuration("pw-\(version)", version: version)
            c.username = "device-1"
            c.password = "wrong"
            let client = try MQTTClient(configuration: c)
            await expectMQTTError({ try await client.connect() }) { e in
                guard case .connectionRejected(let code) = e.code else { return false }
                return (code == 0x86 || code == 0x87) && e.message.contains("refused")
            }
            c.password = "correct horse"
            c.clientID += "-ok"
            let good = try MQTTClient(configuration: c)
            try await good.connect()
            XCTAssertTrue(good.isConnected)
            await good.disconnect()
        }
    }

    func testConnectionRefusedWhenNothingListens() async throws {
        let broker = try await MosquittoBroker.start()
        let port = broker.port
        try await broker.stop()
        var c = MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "refused")
        c.connectTimeout = .seconds(5)
        let client = try MQTTClient(configuration: c)
        await expectMQTTError({ try await client.connect() }) { e in
            e.code == .connectionRefused && e.message.contains("127.0.0.1:\(port)")
        }
    }

    func testWaitForBrokerConnectsOnceTheBrokerStarts() async throws {
        let broker = try await MosquittoBroker.start()
        try await broker.stop()
        let client = try MQTTClient(configuration: broker.configuration("patient"))
        let connecting = Task { try await client.connect(waitForBroker: true) }
        try await Task.sleep(for: .milliseconds(300))
        try await broker.restart()
        _ = try await withTimeout(20, "connect after broker start") { try await connecting.value }
        XCTAssertTrue(client.isConnected)
    }

    func testInvalidConfigurationAndTopicsAreRefusedClearly() async throws {
        var c = MQTTConfiguration(clientID: "x")
        c.port = 0
        XCTAssertThrowsError(try MQTTClient(configuration: c)) { e in
            XCTAssertEqual((e as? MQTTError)?.code, .invalidConfiguration)
        }
        c.port = 1883
        c.tls = .init(caFile: "/nonexistent/ca.pem")
        XCTAssertThrowsError(try MQTTClient(configuration: c)) { e in
            XCTAssertTrue((e as? MQTTError)?.message.contains("/nonexistent/ca.pem") == true)
        }
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient("topics")
        await expectMQTTError({ try await client.publish(topic: "a/+/b", payload: []) }) { e in
            e.code == .invalidTopic("a/+/b")
        }
        await expectMQTTError({ try await client.subscribe("a/#/b") }) { e in
            e.code == .invalidTopic("a/#/b")
        }
    }

    func testOversizedPayloadIsAClearError() async throws {
        var options = MosquittoBroker.Options()
        options.extraConfig = ["max_packet_size 65536"]
        let broker = try await MosquittoBroker.start(options)
        let client = try await broker.connectedClient("oversize")
        await expectMQTTError({ try await client.publish(topic: "big", payload: [UInt8](repeating: 1, count: 100_000)) }) { e in
            if case .payloadTooLarge(let size, _) = e.code { return size == 100_000 }
            return false
        }
        // The client stays usable.
        try await client.publish(topic: "small", payload: [1, 2, 3])
    }

    func testMessageSizeLimitRejectionIsReportedOnMQTT5() async throws {
        var options = MosquittoBroker.Options()
        options.extraConfig = ["message_size_limit 1000"]
        let broker = try await MosquittoBroker.start(options)
        let client = try await broker.connectedClient("sizelimit")
        await expectMQTTError({ try await client.publish(topic: "big", payload: [UInt8](repeating: 1, count: 5000), qos: .atLeastOnce) }) {
            e in
            if case .payloadTooLarge = e.code { return true }
            return false
        }
    }

    func testDisconnectFailsLaterOperationsWithClosed() async throws {
        let broker = try await MosquittoBroker.start()
        let client = try await broker.connectedClient("closing")
        await client.disconnect()
        await client.disconnect()  // idempotent
        XCTAssertFalse(client.isConnected)
        await expectMQTTError({ try await client.publish(topic: "x", payload: []) }) { $0.code == .closed }
    }
}
