import MQTT
import MQTTTestSupport
import XCTest

final class RoundTripTests: XCTestCase {
    func testRoundTripAtEveryQoSOnBothProtocolVersions() async throws {
        let broker = try await MosquittoBroker.start()
        for version in [MQTTProtocolVersion.v5, .v311] {
            let sub = try await broker.connectedClient("rt-sub-\(version)", version: version)
            let pub = try await broker.connectedClient("rt-pub-\(version)", version: version)
            let inbox = Inbox(sub)
            let granted = try await sub.subscribe("rt/\(version)/#", qos: .exactlyOnce)
            XCTAssertEqual(granted, .exactlyOnce)
            for qos in MQTTQoS.allCases {
                let payload = Array("hello at \(qos)".utf8) + [0, 255, 1]
                try await pub.publish(topic: "rt/\(version)/\(qos.rawValue)", payload: payload, qos: qos)
                let got = try await inbox.next(1)
                XCTAssertEqual(got.first?.topic, "rt/\(version)/\(qos.rawValue)")
                XCTAssertEqual(got.first?.bytes, payload)
                XCTAssertEqual(got.first?.qos, qos)
                XCTAssertEqual(got.first?.retain, false)
            }
            await pub.disconnect()
            await sub.disconnect()
        }
    }

    func testMQTT5PropertiesArrive() async throws {
        let broker = try await MosquittoBroker.start()
        let sub = try await broker.connectedClient("props-sub")
        let pub = try await broker.connectedClient("props-pub")
        let inbox = Inbox(sub)
        try await sub.subscribe("props/x")
        var props = MQTTProperties()
        props.userProperties = [.init("device", "d-17"), .init("schema", "telemetry/1"), .init("device", "again")]
        props.messageExpiryInterval = 600
        props.responseTopic = "props/reply"
        props.correlationData = [1, 2, 3, 250]
        props.contentType = "application/json"
        props.payloadIsUTF8 = true
        try await pub.publish(topic: "props/x", payload: Array("{}".utf8), properties: props)
        let m = try await inbox.next(1)[0]
        XCTAssertEqual(m.properties.userProperties, props.userProperties)
        XCTAssertEqual(m.properties.responseTopic, "props/reply")
        XCTAssertEqual(m.properties.correlationData, [1, 2, 3, 250])
        XCTAssertEqual(m.properties.contentType, "application/json")
        XCTAssertEqual(m.properties.payloadIsUTF8, true)
        // The broker forwards the remaining lifetime, which can only have shrunk.
        XCTAssertLessThanOrEqual(m.properties.messageExpiryInterval ?? 0, 600)
        XCTAssertGreaterThan(m.properties.messageExpiryInterval ?? 0, 500)
    }

    func testRetainedMessageReachesLateSubscriberAndCanBeCleared() async throws {
        let broker = try await MosquittoBroker.start()
        let pub = try await broker.connectedClient("retain-pub")
        try await pub.publish(topic: "state/dev1", payload: Array("v1".utf8), qos: .atLeastOnce, retain: true)
        let late = try await broker.connectedClient("retain-late")
        let inbox = Inbox(late)
        try await late.subscribe("state/+")
        let m = try await inbox.next(1)[0]
        XCTAssertEqual(m.bytes, Array("v1".utf8))
        XCTAssertTrue(m.retain)
        // An empty retained payload clears it: a third subscriber gets nothing retained, only
        // the live message published after it subscribed.
        try await pub.publish(topic: "state/dev1", payload: [], retain: true)
        let third = try await broker.connectedClient("retain-third")
        let inbox3 = Inbox(third)
        try await third.subscribe("state/+")
        try await pub.publish(topic: "state/dev2", payload: Array("live".utf8))
        let got = try await inbox3.next(1)[0]
        XCTAssertEqual(got.topic, "state/dev2")
        XCTAssertFalse(got.retain)
    }

    func testWildcards() async throws {
        let broker = try await MosquittoBroker.start()
        let plus = try await broker.connectedClient("wild-plus")
        let hash = try await broker.connectedClient("wild-hash")
        let pub = try await broker.connectedClient("wild-pub")
        let plusInbox = Inbox(plus)
        let hashInbox = Inbox(hash)
        try await plus.subscribe("fleet/+/telemetry")
        try await hash.subscribe("fleet/a/#")
        let topics = ["fleet/a/telemetry", "fleet/b/telemetry", "fleet/a/events/x", "fleet/a/b/telemetry", "other/a/telemetry", "fleet/a"]
        for t in topics { try await pub.publish(topic: t, payload: Array(t.utf8)) }
        try await pub.publish(topic: "fleet/end/telemetry", payload: [])
        try await pub.publish(topic: "fleet/a/end", payload: [])
        let p = try await plusInbox.next(3).map(\.topic)
        XCTAssertEqual(p, ["fleet/a/telemetry", "fleet/b/telemetry", "fleet/end/telemetry"])
        let h = try await hashInbox.next(5).map(\.topic)
        XCTAssertEqual(h, ["fleet/a/telemetry", "fleet/a/events/x", "fleet/a/b/telemetry", "fleet/a", "fleet/a/end"])
    }

    func testSharedSubscriptionSplitsMessagesBetweenMembers() async throws {
        let broker = try await MosquittoBroker.start()
        let a = try await broker.connectedClient("share-a")
        let b = try await broker.connectedClient("share-b")
        let pub = try await broker.connectedClient("share-pub")
        try await a.subscribe("$share/coordinators/jobs/#")
        try await b.subscribe("$share/coordinators/jobs/#")
        let collector = Collector()
        let readers = [(a, "a"), (b, "b")].map { client, name in
            Task { for await m in client.messages { await collector.add(name, m.topic) } }
        }
        let total = 200
        for i in 0..<total { try await pub.publish(topic: "jobs/\(i)", payload: Array("\(i)".utf8)) }
        try await withTimeout(20, "\(total) shared-subscription messages") {
            while await collector.count < total { try await Task.sleep(for: .milliseconds(20)) }
        }
        await a.disconnect()
        await b.disconnect()
        for r in readers { await r.value }
        let byMember = await collector.byMember
        let all = byMember.values.flatMap { $0 }
        XCTAssertEqual(all.count, total, "a message went to both members or was lost")
        XCTAssertEqual(Set(all), Set((0..<total).map { "jobs/\($0)" }))
        XCTAssertGreaterThan(byMember["a"]?.count ?? 0, 0, "member a got nothing: the broker did not share")
        XCTAssertGreaterThan(byMember["b"]?.count ?? 0, 0, "member b got nothing: the broker did not share")
    }

    func testMessageHandlerReceivesInsteadOfTheStream() async throws {
        let broker = try await MosquittoBroker.start()
        let (received, sink) = AsyncStream.makeStream(of: MQTTMessage.self)
        let sub = try MQTTClient(configuration: broker.configuration("handler-sub"), onMessage: { sink.yield($0) })
        try await sub.connect()
        try await sub.subscribe("handler/#")
        let pub = try await broker.connectedClient("handler-pub")
        for i in 0..<3 { try await pub.publish(topic: "handler/\(i)", payload: [UInt8(i), 7]) }
        let got = try await withTimeout(10, "3 handler messages") { () -> [MQTTMessage] in
            var out: [MQTTMessage] = []
            for await m in received {
                out.append(m)
                if out.count == 3 { break }
            }
            return out
        }
        XCTAssertEqual(got.map(\.topic), ["handler/0", "handler/1", "handler/2"])
        XCTAssertEqual(got.map(\.bytes), [[0, 7], [1, 7], [2, 7]])
        // With a handler the stream carries nothing and is finished at once.
        var it = sub.messages.makeAsyncIterator()
        let fromStream = await it.next()
        XCTAssertNil(fromStream)
    }

    func testUnsubscribeStopsDelivery() async throws {
        let broker = try await MosquittoBroker.start()
        let sub = try await broker.connectedClient("unsub-sub")
        let pub = try await broker.connectedClient("unsub-pub")
        let inbox = Inbox(sub)
        try await sub.subscribe("unsub/a")
        try await sub.subscribe("unsub/b")
        try await pub.publish(topic: "unsub/a", payload: [1])
        let first = try await inbox.next(1)[0].topic
        XCTAssertEqual(first, "unsub/a")
        try await sub.unsubscribe("unsub/a")
        // Messages from one publisher arrive in order: if the unsubscribe had not taken
        // effect, "unsub/a" would arrive before "unsub/b".
        try await pub.publish(topic: "unsub/a", payload: [2])
        try await pub.publish(topic: "unsub/b", payload: [3])
        let next = try await inbox.next(1)[0]
        XCTAssertEqual(next.topic, "unsub/b")
        XCTAssertEqual(next.bytes, [3])
    }

    func testSixteenMegabytePayload() async throws {
        let broker = try await MosquittoBroker.start()
        let sub = try await broker.connectedClient("big-sub")
        let pub = try await broker.connectedClient("big-pub")
        let inbox = Inbox(sub)
        try await sub.subscribe("big/x")
        var rng = SystemRandomNumberGenerator()
        var payload = [UInt8](repeating: 0, count: 16 << 20)
        for i in stride(from: 0, to: payload.count, by: 8) {
            withUnsafeBytes(of: rng.next() as UInt64) { b in for j in 0..<8 { payload[i + j] = b[j] } }
        }
        try await pub.publish(topic: "big/x", payload: payload, qos: .atLeastOnce)
        let got = try await inbox.next(1, timeout: 60)[0]
        XCTAssertEqual(got.bytes.count, payload.count)
        XCTAssertTrue(got.bytes == payload, "16 MiB payload arrived altered")
    }
}

actor Collector {
    var byMember: [String: [String]] = [:]
    var count: Int { byMember.values.reduce(0) { $0 + $1.count } }
    func add(_ member: String, _ topic: String) { byMember[member, default: []].append(topic) }
}
