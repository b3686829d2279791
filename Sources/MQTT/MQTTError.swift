/// An error from the MQTT client: what went wrong, for which client and broker, and how to fix it.
public struct MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure; match on this.
    public enum Code: Sendable, Equatable {
        /// Nothing accepted the TCP connection (no broker on that host and port, or a firewall).
        case connectionRefused
        /// The host name could not be resolved.
        case hostNotFound
        /// The broker answered CONNACK with a refusal: bad credentials, not authorized, client id
        /// rejected, protocol version unsupported, server unavailable...
        case connectionRejected(reasonCode: Int)
        /// The TLS handshake failed: certificate verification, wrong CA, missing client cert.
        case tlsFailure
        /// The connection was lost (socket closed, keepalive timeout, broker shut down).
        case connectionLost
        /// No CONNACK arrived within the connect timeout.
        case timedOut
        /// The client is not connected and the operation cannot be queued.
        case notConnected
        /// The payload exceeds a limit: the broker's maximum packet size (MQTT 5 CONNACK), the
        /// broker's message_size_limit (PUBACK reason 0x95), or MQTT's 256 MiB.
        case payloadTooLarge(size: Int, limit: Int?)
        /// The broker refused a publish (PUBACK/PUBREC reason code ≥ 0x80, MQTT 5 only).
        case publishRejected(reasonCode: Int)
        /// The broker refused a subscription (SUBACK reason code ≥ 0x80), e.g. an ACL denial.
        case subscriptionRejected(filter: String, reasonCode: Int)
        /// A topic or topic filter is not valid MQTT (wildcards in a publish topic, bad UTF-8...).
        case invalidTopic(String)
        /// A configuration value is invalid (bad port, keepalive < 5 s, unreadable TLS file...).
        case invalidConfiguration
        /// Messages waiting for a connection exceed the configured offline queue limit.
        case offlineQueueFull(limit: Int)
        /// The client was closed; no further operations are possible.
        case closed
        /// Any other libmosquitto failure (the message carries its text).
        case library(code: Int32)
    }

    public var code: Code
    /// What went wrong and how to fix it, with the client id and broker address.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

extension MQTTError {
    /// The MQTT 5 reason string for a reason code (CONNACK, PUBACK, SUBACK, DISCONNECT).
    static func reasonName(_ code: Int) -> String {
        switch code {
        case 0x80: "unspecified error"
        case 0x81: "malformed packet"
        case 0x82: "protocol error"
        case 0x83: "implementation specific error"
        case 0x84: "unsupported protocol version"
        case 0x85: "client identifier not valid"
        case 0x86: "bad user name or password"
        case 0x87: "not authorized"
        case 0x88: "server unavailable"
        case 0x89: "server busy"
        case 0x8A: "banned"
        case 0x8C: "bad authentication method"
        case 0x8F: "topic filter invalid"
        case 0x90: "topic name invalid"
        case 0x95: "packet too large"
        case 0x97: "quota exceeded"
        case 0x99: "payload format invalid"
        case 0x9A: "retain not supported"
        case 0x9B: "QoS not supported"
        case 0x9F: "connection rate exceeded"
        default: "reason code 0x\(String(code, radix: 16))"
        }
    }

    /// Maps an MQTT 3.1.1 CONNACK return code (1...5) to the MQTT 5 reason code it corresponds to,
    /// so callers see one set of codes whatever the protocol version.
    static func v5ReasonCode(fromV311 code: Int) -> Int {
        switch code {
        case 1: 0x84  // unacceptable protocol version
        case 2: 0x85  // identifier rejected
        case 3: 0x88  // server unavailable
        case 4: 0x86  // bad user name or password
        case 5: 0x87  // not authorized
        default: 0x80
        }
    }

    /// The advice that goes with a CONNACK refusal.
    static func connackAdvice(_ code: Int) -> String {
        switch code {
        case 0x86: "check the username and password in the client configuration against the broker's password file"
        case 0x87:
            "the broker's ACL or authentication plugin refuses this client: check its identity (certificate CN, username) and the broker's access rules"
        case 0x84:
            "the broker does not speak this MQTT version: set protocolVersion to .v311 (\"protocol\": \"3.1.1\" or \"auto\" in the Flotilla config files) or upgrade the broker"
        case 0x85: "the broker rejected the client id: use a unique id of 1–23 characters [0-9a-zA-Z] for MQTT 3.1.1 brokers"
        case 0x88, 0x89: "the broker is overloaded or shutting down: the client retries with backoff"
        case 0x8A: "this client is banned by the broker's administrator"
        default: "see the broker's log for why it refused the connection"
        }
    }
}
