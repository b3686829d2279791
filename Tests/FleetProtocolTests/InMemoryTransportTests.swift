import FleetProtocol
import XCTest

final class InMemoryTransportTests: XCTestCase {
    func next(_ iterator: inout AsyncStream<InboundMessage>.Iterator) async -> InboundMessage? { await iterator.next() }

    func testRetainedMessagesReachLateSubscribersAndCanBeCleared() async throws {
        let broker = InMemoryBroker()
        let coordinator = broker.client("coordinator")
        let device = broker.client("d1")
        await coordinator.connect()
        await device.connect()
        let topic = try Topics.device("d1", .desired)
        try await coordinator.publish(topic: topic, payload: [1, 2, 3], qos: .atLeastOnce, retain: true)
        var stream = try await device.subscribe(topic, qos: .atLeastOnce).makeAsyncIterator()
        let first = await next(&stream)
        XCTAssertEqual(first, InboundMessage(topic: topic, payload: [1, 2, 3], retained: true))
        try await coordinator.publish(topic: topic, payload: [4], qos: .atLeastOnce, retain: true)
        let live = await next(&stream)
        XCTAssertEqual(live, InboundMessage(topic: topic, payload: [4], retained: false))
        try await coordinator.publish(topic: topic, payload: [], qos: .atLeastOnce, retain: true)
        let retained = await broker.retainedMessage(on: topic)
        XCTAssertNil(retained)
    }

    func testWildcardsAndSharedSubscriptions() async throws {
        let broker = InMemoryBroker()
        let c1 = broker.client("c1")
        let c2 = broker.client("c2")
        let monitor = broker.client("monitor")
        let device = broker.client("d1")
        for c in [c1, c2, monitor, device] { await c.connect() }
        let s1 = try await c1.subscribe(Topics.sharedDeviceFilter(.events), qos: .atLeastOnce)
        let s2 = try await c2.subscribe(Topics.sharedDeviceFilter(.events), qos: .atLeastOnce)
        let all = try await monitor.subscribe("flotilla/v1/devices/+/events", qos: .atLeastOnce)
        for i in 0..<6 {
            try await device.publish(topic: try Topics.device("d\(i)", .events), payload: [UInt8(i)], qos: .atLeastOnce, retain: false)
        }
        try await device.publish(topic: try Topics.device("d1", .state), payload: [9], qos: .atLeastOnce, retain: false)
        for c in [c1, c2, monitor] { await c.disconnect() }
        var got1: [UInt8] = []
        for await m in s1 { got1 += m.payload }
        var got2: [UInt8] = []
        for await m in s2 { got2 += m.payload }
        var gotAll: [UInt8] = []
        for await m in all { gotAll += m.payload }
        XCTAssertEqual(gotAll, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual((got1 + got2).sorted(), [0, 1, 2, 3, 4, 5], "each message to exactly one group member")
        XCTAssertEqual(got1.count, 3, "round robin")
    }

    func testLastWillOnLostConnectionOnly() async throws {
        let broker = InMemoryBroker()
        let device = broker.client("d1")
        let topic = try Topics.device("d1", .online)
        let will = MessageEnvelope.encode(OnlineStatus(deviceID: "d1", online: false, connectionSequence: 2, hardwareClass: "c", atMs: 0))
        let online = MessageEnvelope.encode(OnlineStatus(deviceID: "d1", online: true, connectionSequence: 2, hardwareClass: "c", atMs: 0))
        let events = await device.connectionEvents()
        await device.connect(will: LastWill(topic: topic, payload: will, qos: .atLeastOnce, retain: true))
        try await device.publish(topic: topic, payload: online, qos: .atLeastOnce, retain: true)
        await device.disconnect(clean: true)
        let afterClean = await broker.retainedMessage(on: topic)
        XCTAssertEqual(afterClean, online)
        await device.connect(will: LastWill(topic: topic, payload: will, qos: .atLeastOnce, retain: true))
        await device.disconnect(clean: false)
        let afterLoss = await broker.retainedMessage(on: topic)
        XCTAssertEqual(afterLoss, will)
        let status = try MessageEnvelope.decode(OnlineStatus.self, from: afterLoss ?? [])
        XCTAssertFalse(status.online)
        var seen: [ConnectionEvent] = []
        for await e in events {
            seen.append(e)
            if seen.count == 4 { break }
        }
        XCTAssertEqual(seen, [.connected, .disconnected(reason: "disconnected"), .connected, .disconnected(reason: "connection lost")])
    }

    func testPublishingNeedsAConnectionAndAValidTopic() async throws {
        let broker = InMemoryBroker()
        let device = broker.client("d1")
        do {
            try await device.publish(topic: "a", payload: [], qos: .atMostOnce, retain: false)
            XCTFail("published while disconnected")
        } catch { XCTAssertEqual(error, .notConnected(clientID: "d1")) }
        await device.connect()
        do {
            try await device.publish(topic: "a/+", payload: [], qos: .atMostOnce, retain: false)
            XCTFail("published to a wildcard")
        } catch { XCTAssertEqual(error, .invalidTopic(topic: "a/+", reason: "a topic name holds no wildcards ('+', '#') and no NUL")) }
    }
}
