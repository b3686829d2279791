import Foundation
public import Logging

/// MQTT quality of service.
public enum MQTTQoS: Int32, Sendable, Comparable, CaseIterable {
    case atMostOnce = 0
    case atLeastOnce = 1
    case exactlyOnce = 2

    public static func < (a: MQTTQoS, b: MQTTQoS) -> Bool { a.rawValue < b.rawValue }
}

/// The MQTT protocol version a client speaks.
public enum MQTTProtocolVersion: Sendable {
    case v311
    case v5
}

/// Everything a client needs to reach and stay connected to one broker.
public struct MQTTConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The client identifier; with a persistent session it must be stable and unique.
    public var clientID: String
    public var protocolVersion: MQTTProtocolVersion = .v5
    /// With `protocolVersion` `.v5`: when the broker turns MQTT 5 down before the first
    /// connection succeeds — CONNACK "unsupported protocol version" (0x84, or 3.1.1's return
    /// code 1), or the connection closed before any CONNACK, which is what RabbitMQ 3.10's MQTT
    /// plugin does with an MQTT 5 CONNECT — the next attempt speaks 3.1.1 at once. The version
    /// that gets the first CONNACK is kept for the client's lifetime (`MQTTClient.protocolVersion`);
    /// a 3.1.1 attempt that fails too sends the one after it back to MQTT 5, so a broker that was
    /// merely restarting is not taken for a 3.1.1 one.
    public var fallBackToV311: Bool = false
    /// Seconds between keepalive pings; the broker drops the client after 1.5× this of silence.
    public var keepAlive: Int = 30
    /// `true`: start a new session on every connect. `false`: resume the broker-side session
    /// (subscriptions and queued QoS ≥ 1 messages survive a disconnect).
    public var cleanSession: Bool = true
    /// MQTT 5: how long the broker keeps a persistent session after a disconnect, in seconds.
    /// Ignored when `cleanSession` is true or for MQTT 3.1.1 (where a persistent session lasts
    /// until the broker's `persistent_client_expiration`).
    public var sessionExpiry: UInt32 = 7 * 24 * 3600
    public var username: String?
    public var password: String?
    public var tls: TLS?
    /// Published by the broker if the connection dies without a DISCONNECT.
    public var will: MQTTMessage?
    /// When set, called before every connection attempt (the first and each reconnect) and its
    /// message replaces `will` for that attempt: the will travels in CONNECT, so this is how a
    /// will can name its connection (a sequence number, a timestamp). Runs on the event loop
    /// thread: it must return quickly and must not call back into the client.
    public var willProvider: (@Sendable () -> MQTTMessage)?
    public var reconnect: ReconnectPolicy = .init()
    /// How long to wait for CONNACK (TCP + TLS + MQTT handshake) before an attempt fails.
    public var connectTimeout: Duration = .seconds(10)
    /// Messages published while disconnected wait in memory up to this count; past it
    /// `publish` throws `offlineQueueFull`.
    public var offlineQueueLimit: Int = 10_000
    /// Outgoing QoS ≥ 1 messages in flight before libmosquitto queues further ones (MQTT 5:
    /// capped by the broker's receive maximum).
    public var maxInflightMessages: Int = 100
    /// nil: the shared `defaultLogger` (a logger per client would cost every one of a
    /// thousand simulated devices its own copy).
    public var logger: Logger?

    public static let defaultLogger = Logger(label: "flotilla.mqtt")

    public init(host: String = "127.0.0.1", port: Int = 1883, clientID: String) {
        self.host = host
        self.port = port
        self.clientID = clientID
    }

    /// TLS settings. Server certificate verification (chain and host name) is always on unless
    /// `insecureSkipHostnameVerification` is set, which only skips the host name check.
    public struct TLS: Sendable {
        /// PEM file of the CA(s) that signed the broker's certificate.
        public var caFile: String
        /// Client certificate and key (PEM), for brokers that require them.
        public var certificateFile: String?
        public var keyFile: String?
        public var insecureSkipHostnameVerification: Bool = false

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// Automatic reconnection after a lost connection: capped exponential backoff with jitter.
    public struct ReconnectPolicy: Sendable {
        public var enabled: Bool = true
        public var initialDelay: Duration = .milliseconds(500)
        public var maximumDelay: Duration = .seconds(30)
        public var multiplier: Double = 2
        /// Each delay is multiplied by a uniform random factor in [1 - jitter, 1 + jitter], so a
        /// fleet that lost its broker at once does not reconnect at once.
        public var jitter: Double = 0.2

        public init() {}

        /// The delay before reconnect attempt `attempt` (1-based), with jitter drawn from `random`.
        public func delay(attempt: Int, random: Double) -> Duration {
            let base = initialDelay.seconds * pow(multiplier, Double(max(0, attempt - 1)))
            let capped = min(base, maximumDelay.seconds)
            let factor = 1 + jitter * (2 * random - 1)
            return .milliseconds(Int64((capped * factor * 1000).rounded()))
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
