import Foundation
import MQTT
import MQTTTestSupport
import TestSupport
import XCTest

/// What Flotilla relies on, checked against Debian's RabbitMQ MQTT plugin (3.10, MQTT 3.1.1
/// only), and the plugin's differences that docs/brokers.md describes. One broker for all the
/// checks: a RabbitMQ node takes ~15 s to start.
final class RabbitMQTests: XCTestCase {
    func testMQTT311BehavioursFlotillaReliesOn() async throws {
        guard RabbitMQBroker.isInstalled else { throw XCTSkip(RabbitMQBroker.notInstalledMessage) }
        let broker = try await RabbitMQBroker.start()
        do {
            try await checkMQTT5IsRefusedAndAutoFallsBack(broker)
            try await checkChunkSizedMessagesRoundTrip(broker)
            try await checkQoS2IsGrantedAsQoS1(broker)
            try await checkRetainedMessagesReachExactSubscriptionsOnly(broker)
            try await checkDotsInTopicLevelsBecomeSlashes(broker)
            try await checkPersistentSessionQueuesWhileOffline(broker)
            try await checkRetainedLastWillOnAbruptLoss(broker)
        } catch {
            XCTFail("\(error)\n--- broker log ---\n\(broker.log.suffix(4000))")
        }
        try await broker.stop()
    }

    /// RabbitMQ 3.10 closes an MQTT 5 CONNECT without a CONNACK; `fallBackToV311` then
    /// connects with 3.1.1.
    func checkMQTT5IsRefusedAndAutoFallsBack(_ broker: RabbitMQBroker) async throws {
        let strict = try MQTTClient(configuration: broker.configuration("strict-v5", version: .v5))
        await expectMQTTError({ try await strict.connect() }) { error in
            error.code == .connectionLost || error.code == .connectionRejected(reasonCode: 0x84)
        }
        // A clean session (non-blocking connect) and a persistent one (blocking connect with the
        // session-expiry property) go through different libmosquitto calls.
        for clean in [true, false] {
            var c = broker.configuration("auto-\(clean)", version: .v5)
            c.fallBackToV311 = true
            c.cleanSession = clean
            let auto = try MQTTClient(configuration: c)
            try await auto.connect()
            XCTAssertEqual(auto.protocolVersion, .v311)
            XCTAssertTrue(auto.isConnected)
            await auto.disconnect()
        }
    }

    /// A 256 KiB artifact chunk plus its frame header fits RabbitMQ's limits and arrives intact.
    func checkChunkSizedMessagesRoundTrip(_ broker: RabbitMQBroker) async throws {
        let receiver = try await broker.connectedClient("chunk-rx", version: .v311)
        let inbox = Inbox(receiver)
        try await receiver.subscribe("flotilla/v1/artifacts/x86_64-avx2/+/chunks", qos: .atLeastOnce)
        let sender = try await broker.connectedClient("chunk-tx", version: .v311)
        var seeded = SplitMix64(seed: 42)
        let payload = (0..<(256 << 10) + 64).map { _ in UInt8(truncatingIfNeeded: seeded.next()) }
        let topic = "flotilla/v1/artifacts/x86_64-avx2/\(String(repeating: "ab", count: 32))/chunks"
        try await sender.publish(topic: topic, payload: payload, qos: .atLeastOnce)
        let got = try await inbox.next(1, timeout: 30)
        XCTAssertEqual(got.first?.topic, topic)
        XCTAssertEqual(got.first?.bytes.count, payload.count)
        XCTAssertEqual(got.first?.bytes, payload)
        await sender.disconnect()
        await receiver.disconnect()
    }

    func checkQoS2IsGrantedAsQoS1(_ broker: RabbitMQBroker) async throws {
        let client = try await broker.connectedClient("qos2", version: .v311)
        let granted = try await client.subscribe("qos/test", qos: .exactlyOnce)
        XCTAssertEqual(granted, .atLeastOnce)
        await client.disconnect()
    }

    /// The agent subscribes to its own desired-state topic exactly, so the retained directive
    /// reaches it; the coordinator's wildcard subscriptions get live messages only.
    func checkRetainedMessagesReachExactSubscriptionsOnly(_ broker: RabbitMQBroker) async throws {
        let publisher = try await broker.connectedClient("retain-tx", version: .v311)
        let topic = "flotilla/v1/devices/dev-r1/desired"
        try await publisher.publish(topic: topic, payload: Array("signed".utf8), qos: .atLeastOnce, retain: true)
        await publisher.disconnect()

        let exact = try await broker.connectedClient("retain-exact", version: .v311)
        let exactInbox = Inbox(exact)
        try await exact.subscribe(topic, qos: .atLeastOnce)
        let got = try await exactInbox.next(1)
        XCTAssertEqual(got.first?.bytes, Array("signed".utf8))
        XCTAssertEqual(got.first?.retain, true)
        await exact.disconnect()

        let wildcard = try await broker.connectedClient("retain-wild", version: .v311)
        let wildInbox = Inbox(wildcard)
        try await wildcard.subscribe("flotilla/v1/devices/+/desired", qos: .atLeastOnce)
        // A live message after the subscription: the first (and only) one the wildcard sees.
        let live = try await broker.connectedClient("retain-live", version: .v311)
        try await live.publish(topic: "flotilla/v1/devices/dev-r2/desired", payload: Array("live".utf8), qos: .atLeastOnce)
        let first = try await wildInbox.next(1)
        XCTAssertEqual(first.first?.topic, "flotilla/v1/devices/dev-r2/desired", "RabbitMQ 3.10 sends no retained message to a wildcard")
        await live.disconnect()
        await wildcard.disconnect()
    }

    /// RabbitMQ maps MQTT '/' to AMQP '.', and a '.' inside a level comes back as '/': an id
    /// with a dot becomes two levels. Flotilla ids must avoid '.' on RabbitMQ (docs/brokers.md).
    func checkDotsInTopicLevelsBecomeSlashes(_ broker: RabbitMQBroker) async throws {
        let client = try await broker.connectedClient("dots", version: .v311)
        let inbox = Inbox(client)
        try await client.subscribe("dots/#", qos: .atLeastOnce)
        try await client.publish(topic: "dots/dev.1/state", payload: [1], qos: .atLeastOnce)
        let got = try await inbox.next(1)
        XCTAssertEqual(got.first?.topic, "dots/dev/1/state")
        await client.disconnect()
    }

    /// A persistent (clean session false) subscriber gets the QoS 1 messages published while it
    /// was away: how an agent gets a directive sent while it was offline.
    func checkPersistentSessionQueuesWhileOffline(_ broker: RabbitMQBroker) async throws {
        var c = broker.configuration("persistent-dev", version: .v311)
        c.cleanSession = false
        let first = try MQTTClient(configuration: c)
        try await first.connect()
        try await first.subscribe("flotilla/v1/artifacts/arm64-dotprod/+/cancel", qos: .atLeastOnce)
        await first.disconnect()

        let publisher = try await broker.connectedClient("persistent-tx", version: .v311)
        let topic = "flotilla/v1/artifacts/arm64-dotprod/\(String(repeating: "cd", count: 32))/cancel"
        try await publisher.publish(topic: topic, payload: Array("stop".utf8), qos: .atLeastOnce)
        await publisher.disconnect()

        let again = try MQTTClient(configuration: c)
        let inbox = Inbox(again)
        let resumed = try await again.connect()
        XCTAssertTrue(resumed, "the broker kept the session")
        let got = try await inbox.next(1)
        XCTAssertEqual(got.first?.topic, topic)
        XCTAssertEqual(got.first?.bytes, Array("stop".utf8))
        await again.disconnect()
    }

    /// An agent's last will (`online: false`, retained) is published when its connection dies
    /// without DISCONNECT, live to the coordinator's wildcard and retained for exact readers.
    func checkRetainedLastWillOnAbruptLoss(_ broker: RabbitMQBroker) async throws {
        let watcher = try await broker.connectedClient("will-watcher", version: .v311)
        let inbox = Inbox(watcher)
        try await watcher.subscribe("flotilla/v1/devices/+/online", qos: .atLeastOnce)
        let topic = "flotilla/v1/devices/dev-w1/online"
        var c = broker.configuration("dev-w1", version: .v311)
        c.will = MQTTMessage(topic: topic, payload: Array("offline".utf8), qos: .atLeastOnce, retain: true)
        let device = try MQTTClient(configuration: c)
        try await device.connect()
        device.abort()
        let live = try await inbox.next(1, timeout: 30)
        XCTAssertEqual(live.first?.topic, topic)
        XCTAssertEqual(live.first?.bytes, Array("offline".utf8))
        await watcher.disconnect()

        let reader = try await broker.connectedClient("will-reader", version: .v311)
        let readerInbox = Inbox(reader)
        try await reader.subscribe(topic, qos: .atLeastOnce)
        let retained = try await readerInbox.next(1)
        XCTAssertEqual(retained.first?.bytes, Array("offline".utf8))
        XCTAssertEqual(retained.first?.retain, true)
        await reader.disconnect()
    }
}
