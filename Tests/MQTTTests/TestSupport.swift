import Foundation
import MQTT
import MQTTTestSupport
import XCTest

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `operation`, failing with `TimedOut` if it takes longer than `seconds`. A safety net so a
/// broken test fails instead of hanging CI; no test asserts on time.
func withTimeout<T: Sendable>(
    _ seconds: Double, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Reads messages from one client's stream. One reader per client (AsyncStream has one consumer).
final class Inbox: @unchecked Sendable {
    // Proof: the iterator is used by one test task at a time, never concurrently.
    private var iterator: AsyncStream<MQTTMessage>.Iterator

    init(_ client: MQTTClient) { iterator = client.messages.makeAsyncIterator() }

    func next(_ count: Int, timeout: Double = 15) async throws -> [MQTTMessage] {
        try await withTimeout(timeout, "\(count) message(s)") {
            var out: [MQTTMessage] = []
            while out.count < count, let m = await self.iterator.next() { out.append(m) }
            return out
        }
    }
}

extension TestBroker {
    func configuration(_ id: String, version: MQTTProtocolVersion = .v5) -> MQTTConfiguration {
        var c = MQTTConfiguration(host: host, port: port, clientID: id)
        c.protocolVersion = version
        c.reconnect.initialDelay = .milliseconds(100)
        c.reconnect.maximumDelay = .seconds(1)
        c.connectTimeout = .seconds(5)
        return c
    }

    func connectedClient(_ id: String, version: MQTTProtocolVersion = .v5, eventLoop: MQTTEventLoop = .shared) async throws -> MQTTClient {
        let client = try MQTTClient(configuration: configuration(id, version: version), eventLoop: eventLoop)
        try await client.connect()
        return client
    }
}

func expectMQTTError(
    _ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line,
    _ check: (MQTTError) -> Bool
) async {
    do {
        try await body()
        XCTFail("expected an MQTTError, got success", file: file, line: line)
    } catch let e as MQTTError {
        XCTAssertTrue(check(e), "unexpected MQTTError: \(e)", file: file, line: line)
    } catch {
        XCTFail("expected an MQTTError, got \(error)", file: file, line: line)
    }
}

extension MQTTMessage {
    var bytes: [UInt8] { Array(payload) }
}
