public import Foundation

/// One application message, received or to be published.
///
/// A received payload is the buffer libmosquitto read from the socket, adopted without a copy
/// (model chunks are 256 KiB–1 MiB and a fleet simulator receives them a thousand times over).
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: Data
    public var qos: MQTTQoS
    public var retain: Bool
    public var properties: MQTTProperties

    public init(
        topic: String, payload: Data, qos: MQTTQoS = .atLeastOnce, retain: Bool = false,
        properties: MQTTProperties = .init()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }

    public init(
        topic: String, payload: [UInt8], qos: MQTTQoS = .atLeastOnce, retain: Bool = false,
        properties: MQTTProperties = .init()
    ) {
        self.init(topic: topic, payload: Data(payload), qos: qos, retain: retain, properties: properties)
    }
}

/// The MQTT 5 publish properties Flotilla uses. Ignored (not sent) on MQTT 3.1.1 connections.
public struct MQTTProperties: Sendable, Equatable {
    /// Name/value pairs, in order; names may repeat.
    public var userProperties: [UserProperty] = []
    /// Seconds after which the broker discards the message if not yet delivered.
    public var messageExpiryInterval: UInt32?
    public var responseTopic: String?
    public var correlationData: [UInt8]?
    public var contentType: String?
    /// `true` when the payload is UTF-8 text (payload format indicator 1).
    public var payloadIsUTF8: Bool?

    public init() {}

    public var isEmpty: Bool { self == MQTTProperties() }

    public struct UserProperty: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }
}

/// What happened to a client's connection; see `MQTTClient.connectionEvents`.
public enum MQTTConnectionEvent: Sendable, Equatable {
    /// CONNACK accepted. `sessionPresent`: the broker resumed a persistent session.
    case connected(sessionPresent: Bool)
    /// The connection ended; `error` is nil for a disconnect the client asked for.
    case disconnected(MQTTError?)
    /// A reconnect attempt is scheduled after `delay`.
    case reconnecting(attempt: Int, delay: Duration)
}
