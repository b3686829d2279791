import MQTT
import MQTTTestSupport
import XCTest

final class ManyClientsTests: XCTestCase {
    /// A thousand clients on one event loop thread — beyond select()'s 1024-descriptor limit —
    /// all connect, subscribe and receive one broadcast.
    func testThousandClientsOnOneEventLoop() async throws {
        let broker = try await MosquittoBroker.start()
        let loop = MQTTEventLoop(name: "test.many")
        defer { loop.shutdown() }
        let n = 1000
        let clients: [MQTTClient] = try (0..<n).map { i in
            var c = broker.configuration("many-\(i)")
            c.keepAlive = 60
            return try MQTTClient(configuration: c, eventLoop: loop)
        }
        try await withTimeout(120, "\(n) clients to connect and subscribe") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, client) in clients.enumerated() {
                    group.addTask {
                        try await client.connect()
                        try await client.subscribe("broadcast/all", qos: .atLeastOnce)
                    }
                    if i % 100 == 99 { try await group.waitForAll() }
                }
                try await group.waitForAll()
            }
        }
        XCTAssertEqual(clients.filter(\.isConnected).count, n)

        let publisher = try await broker.connectedClient("many-pub", eventLoop: loop)
        let payload = Array("model v2 is out".utf8)
        try await publisher.publish(topic: "broadcast/all", payload: payload, qos: .atLeastOnce)
        let received = try await withTimeout(60, "the broadcast at \(n) clients") {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for client in clients {
                    group.addTask {
                        for await m in client.messages { return m.bytes == payload }
                        return false
                    }
                }
                var count = 0
                for try await ok in group where ok { count += 1 }
                return count
            }
        }
        XCTAssertEqual(received, n)
        for client in clients { await client.disconnect() }
    }
}
