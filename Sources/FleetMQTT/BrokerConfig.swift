import Foundation

/// Where the broker is and how to authenticate to it.
public struct BrokerConfig: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var useTLS: Bool
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: String?
    /// The MQTT version to speak (`"protocol"` in the config files).
    public var mqttProtocol: BrokerProtocol

    public init(
        host: String, port: Int, useTLS: Bool = false, caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        username: String? = nil, password: String? = nil, mqttProtocol: BrokerProtocol = .v5
    ) {
        self.host = host
        self.port = port
        self.useTLS = useTLS
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
        self.mqttProtocol = mqttProtocol
    }

    /// `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883).
    public static func parse(url text: String) throws(BrokerConfigError) -> (host: String, port: Int, tls: Bool) {
        guard let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            throw BrokerConfigError(detail: "'\(text)' is not a URL like mqtt://broker.local:1883 or mqtts://broker:8883")
        }
        let tls: Bool
        switch scheme {
        case "mqtt", "tcp": tls = false
        case "mqtts", "ssl", "tls": tls = true
        default: throw BrokerConfigError(detail: "scheme '\(scheme)' is not mqtt or mqtts")
        }
        let port = url.port ?? (tls ? 8883 : 1883)
        guard (1...65535).contains(port) else { throw BrokerConfigError(detail: "port \(port) is outside 1...65535") }
        return (host, port, tls)
    }
}

/// The MQTT version a client speaks to the broker; docs/brokers.md says what each loses.
public enum BrokerProtocol: String, Sendable, Equatable, CaseIterable {
    /// MQTT 5 (the default): shared subscriptions for several coordinators, session expiry.
    case v5 = "5"
    /// MQTT 3.1.1, for brokers without MQTT 5 (RabbitMQ before 3.13): no shared subscriptions,
    /// so one coordinator takes in the device messages.
    case v311 = "3.1.1"
    /// MQTT 5, and 3.1.1 when the broker refuses MQTT 5 at the first connection (logged).
    case auto

    /// `"5"`, `"3.1.1"` or `"auto"`; nil (not configured) is `"5"`.
    public static func parse(_ text: String?) throws(BrokerConfigError) -> BrokerProtocol {
        guard let text else { return .v5 }
        guard let value = BrokerProtocol(rawValue: text) else {
            throw BrokerConfigError(detail: "'\(text)' is not an MQTT protocol; use \"5\", \"3.1.1\" or \"auto\"")
        }
        return value
    }
}

/// A broker URL that cannot be used; `detail` says what is wrong and what is expected.
public struct BrokerConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String
    public init(detail: String) { self.detail = detail }
    public var description: String { detail }
}
