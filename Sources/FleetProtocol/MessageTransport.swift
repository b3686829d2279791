/// MQTT delivery guarantees, as the protocol uses them.
public enum QoS: Int, Sendable, Codable, Comparable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (a: QoS, b: QoS) -> Bool { a.rawValue < b.rawValue }
}

/// A message as a subscriber receives it.
public struct InboundMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// True when delivered from the broker's retained store on subscribe.
    public var retained: Bool

    public init(topic: String, payload: [UInt8], retained: Bool) {
        self.topic = topic
        self.payload = payload
        self.retained = retained
    }
}

/// The connection's life as a transport user sees it: on `connected` the agent republishes its
/// state and online status; on `disconnected` it queues events in its outbox.
public enum ConnectionEvent: Sendable, Equatable {
    case connected
    case disconnected(reason: String)
}

/// What the broker publishes for a client whose connection dies without a clean disconnect.
public struct LastWill: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: QoS, retain: Bool) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case notConnected(clientID: String)
    case invalidTopic(topic: String, reason: String)
    case invalidFilter(filter: String, reason: String)
    /// The underlying client failed (the MQTT-backed transport maps its errors here).
    case failed(detail: String)

    public var description: String {
        switch self {
        case .notConnected(let id): return "client '\(id)' is not connected; connect before publishing or subscribing"
        case .invalidTopic(let topic, let reason): return "cannot publish to '\(topic)': \(reason)"
        case .invalidFilter(let filter, let reason): return "cannot subscribe to '\(filter)': \(reason)"
        case .failed(let detail): return "transport failed: \(detail)"
        }
    }
}

/// How Coordinator and Agent talk to a broker. The MQTT-backed implementation is wired in by
/// the executables; `InMemoryTransport` serves unit tests. Implementations must not assume
/// delivery: the protocol confirms end to end (state reports, chunk requests).
public protocol MessageTransport: Sendable {
    func publish(topic: String, payload: [UInt8], qos: QoS, retain: Bool) async throws(TransportError)
    /// Messages matching `filter` (MQTT wildcards `+` and `#`, `$share/{group}/` prefixes),
    /// retained ones first. The stream ends when the connection closes.
    func subscribe(_ filter: String, qos: QoS) async throws(TransportError) -> AsyncStream<InboundMessage>
    /// Connection state changes from now on.
    func connectionEvents() async -> AsyncStream<ConnectionEvent>
    /// Whether `$share/{group}/` filters split messages among a group's subscribers: true on
    /// MQTT 5, false on an MQTT 3.1.1 connection (RabbitMQ 3.10 would take the filter as a
    /// literal topic and deliver nothing). Asked after connecting, when the version is settled.
    var supportsSharedSubscriptions: Bool { get async }
}

extension MessageTransport {
    public var supportsSharedSubscriptions: Bool { get async { true } }
}
