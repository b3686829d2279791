public import Foundation

/// An MQTT 5 / 3.1.1 client over libmosquitto, driven by an `MQTTEventLoop` shared with other
/// clients (one thread for thousands of clients).
///
/// - `connect()` completes on CONNACK; after the first success the client reconnects by itself
///   with capped exponential backoff and jitter, resubscribes when the broker has no session for
///   it, and sends messages published while offline (up to `offlineQueueLimit`).
/// - `publish` completes when the broker acknowledges (PUBACK at QoS 1, PUBCOMP at QoS 2), or at
///   once at QoS 0; a QoS ≥ 1 message in flight when the connection drops is resent after the
///   reconnect and completes then.
/// - `messages` yields every message for this client's subscriptions, in arrival order; it has
///   one consumer. `connectionEvents` reports connects, losses and reconnect attempts.
public final class MQTTClient: Sendable {
    public var configuration: MQTTConfiguration { core.configuration }
    public let messages: AsyncStream<MQTTMessage>
    public let connectionEvents: AsyncStream<MQTTConnectionEvent>
    private let core: ClientCore
    private let loop: MQTTEventLoop

    /// - Parameter onMessage: if given, every received message is passed to it on the event
    ///   loop's thread (it must return quickly and not block) and `messages` stays empty. This
    ///   spares a consumer task per client where thousands of clients run in one process.
    public init(
        configuration: MQTTConfiguration, eventLoop: MQTTEventLoop = .shared,
        onMessage: (@Sendable (MQTTMessage) -> Void)? = nil
    ) throws(MQTTError) {
        self.loop = eventLoop
        let (messages, messagesContinuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .unbounded)
        if onMessage != nil { messagesContinuation.finish() }
        let (events, eventsContinuation) = AsyncStream.makeStream(of: MQTTConnectionEvent.self, bufferingPolicy: .bufferingNewest(256))
        self.messages = messages
        self.connectionEvents = events
        self.core = try ClientCore(
            configuration: configuration, loop: eventLoop, messages: messagesContinuation, messageHandler: onMessage,
            events: eventsContinuation)
    }

    deinit {
        // A client dropped without disconnect() still says goodbye, so the broker does not
        // publish its last will.
        let core = self.core
        loop.execute { core.loopDisconnect(waiter: nil) }
    }

    /// The MQTT version this client speaks: the configured one, or 3.1.1 once a broker that
    /// refused MQTT 5 made `fallBackToV311` switch (settled by the first CONNACK).
    public var protocolVersion: MQTTProtocolVersion { core.protocolVersion }

    /// True between CONNACK and the loss or close of the connection.
    public var isConnected: Bool { core.connected.load(ordering: .relaxed) }

    /// Connects and waits for CONNACK. Returns whether the broker resumed a persistent session.
    ///
    /// - Parameter waitForBroker: `false` (default): the first failure throws (refused
    ///   connection, bad credentials, TLS failure, timeout). `true`: failures are retried with the
    ///   reconnect policy's backoff until a connection succeeds — for services that start before
    ///   their broker.
    @discardableResult
    public func connect(waitForBroker: Bool = false) async throws -> Bool {
        let core = self.core
        return try await withCheckedThrowingContinuation { c in
            loop.execute { core.loopConnect(retrying: waitForBroker, continuation: c) }
        }
    }

    /// Publishes `message`; see the type's documentation for when this returns.
    public func publish(_ message: MQTTMessage) async throws {
        let core = self.core
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.execute { core.loopPublish(message, c) }
        }
    }

    public func publish(
        topic: String, payload: [UInt8], qos: MQTTQoS = .atLeastOnce, retain: Bool = false,
        properties: MQTTProperties = .init()
    ) async throws {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties))
    }

    public func publish(
        topic: String, payload: Data, qos: MQTTQoS = .atLeastOnce, retain: Bool = false,
        properties: MQTTProperties = .init()
    ) async throws {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties))
    }

    /// Subscribes to `filter` (wildcards `+`/`#` and `$share/GROUP/...` shared subscriptions
    /// allowed) and returns the QoS the broker granted once SUBACK arrives. If the client is not
    /// connected yet, the subscription is sent on connect and this waits for it. The
    /// subscription is remembered and renewed after every reconnect without a session.
    @discardableResult
    public func subscribe(_ filter: String, qos: MQTTQoS = .atLeastOnce) async throws -> MQTTQoS {
        let core = self.core
        return try await withCheckedThrowingContinuation { c in
            loop.execute { core.loopSubscribe(filter, qos: qos, c) }
        }
    }

    public func unsubscribe(_ filter: String) async throws {
        let core = self.core
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.execute { core.loopUnsubscribe(filter, c) }
        }
    }

    /// Sends DISCONNECT (the broker discards the last will) and closes the client. Operations
    /// still pending fail with `.closed`. Idempotent.
    public func disconnect() async {
        let core = self.core
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            loop.execute { core.loopDisconnect(waiter: c) }
        }
    }

    /// Closes the socket without DISCONNECT, as a crash or power loss would: the broker
    /// publishes the last will. The client is closed afterwards.
    public func abort() {
        let core = self.core
        loop.execute { core.loopAbort() }
    }

    /// Breaks the TCP connection without closing the client (no DISCONNECT: the broker
    /// publishes the last will); with reconnect enabled it comes back by itself, not before
    /// `offlineFor` has passed. For fault injection (flapping networks, devices out of
    /// coverage) in tests and the simulator.
    public func dropConnection(offlineFor: Duration = .zero) {
        let core = self.core
        loop.execute { core.loopDropConnection(offlineFor: offlineFor) }
    }
}
