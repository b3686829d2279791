public import FleetProtocol
import Foundation
public import MQTT
import Synchronization

/// `MessageTransport` over the real MQTT client (FleetProtocol stays free of MQTT). The client
/// has one message stream; this fans it out to every subscription whose filter matches, and
/// fans connection changes out to every `connectionEvents()` stream.
public final class MQTTTransport: MessageTransport {
    public let client: MQTTClient
    private let routes = RouteTable()

    public init(configuration: MQTTConfiguration) throws(MQTTError) {
        let routes = self.routes
        client = try MQTTClient(
            configuration: configuration,
            onMessage: { message in
                let inbound = InboundMessage(topic: message.topic, payload: Array(message.payload), retained: message.retain)
                routes.withLock { r in
                    for s in r.subscriptions where s.filter.matches(message.topic) { s.continuation.yield(inbound) }
                }
            })
        let events = client.connectionEvents
        Task { [routes] in
            for await event in events {
                let mapped: ConnectionEvent? =
                    switch event {
                    case .connected: .connected
                    case .disconnected(let error): .disconnected(reason: error.map { "\($0)" } ?? "disconnected")
                    case .reconnecting: nil
                    }
                guard let mapped else { continue }
                routes.withLock { r in for l in r.listeners { l.yield(mapped) } }
            }
        }
    }

    /// Connects, retrying with the client's backoff until the broker answers.
    public func connect() async throws(TransportError) {
        do { try await client.connect(waitForBroker: true) } catch { throw .failed(detail: "\(error)") }
    }

    public func disconnect() async {
        await client.disconnect()
        routes.withLock { r in
            for s in r.subscriptions { s.continuation.finish() }
            for l in r.listeners { l.finish() }
            r = RouteTable.Routes()
        }
    }

    public func publish(topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws(TransportError) {
        do {
            try await client.publish(
                topic: topic, payload: payload, qos: MQTTQoS(rawValue: Int32(qos.rawValue)) ?? .atLeastOnce, retain: retain)
        } catch { throw .failed(detail: "\(error)") }
    }

    public func subscribe(_ filter: String, qos: QoS) async throws(TransportError) -> AsyncStream<InboundMessage> {
        let parsed = try TopicFilter(filter)
        let (stream, continuation) = AsyncStream<InboundMessage>.makeStream()
        // Registered before SUBSCRIBE goes out, so retained messages cannot slip past.
        routes.withLock { $0.subscriptions.append((parsed, continuation)) }
        do { try await client.subscribe(filter, qos: MQTTQoS(rawValue: Int32(qos.rawValue)) ?? .atLeastOnce) } catch {
            continuation.finish()
            throw .failed(detail: "\(error)")
        }
        return stream
    }

    /// Stops delivering to the streams of `filter` and unsubscribes.
    public func unsubscribe(_ filter: String) async {
        routes.withLock { r in
            for s in r.subscriptions where s.filter.filter == filter { s.continuation.finish() }
            r.subscriptions.removeAll { $0.filter.filter == filter }
        }
        try? await client.unsubscribe(filter)
    }

    /// MQTT 5 only: settled by the first CONNACK when the protocol is `auto`.
    public var supportsSharedSubscriptions: Bool { client.protocolVersion == .v5 }

    public func connectionEvents() async -> AsyncStream<ConnectionEvent> {
        let (stream, continuation) = AsyncStream<ConnectionEvent>.makeStream()
        let connected = client.isConnected
        routes.withLock { $0.listeners.append(continuation) }
        if connected { continuation.yield(.connected) }
        return stream
    }
}

/// Subscriptions and connection listeners, shared with the client's callback thread.
private final class RouteTable: Sendable {
    struct Routes {
        var subscriptions: [(filter: TopicFilter, continuation: AsyncStream<InboundMessage>.Continuation)] = []
        var listeners: [AsyncStream<ConnectionEvent>.Continuation] = []
    }
    private let mutex = Mutex(Routes())

    func withLock<R>(_ body: (inout Routes) -> R) -> R { mutex.withLock { body(&$0) } }
}
