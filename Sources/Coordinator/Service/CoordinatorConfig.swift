public import FleetMQTT
public import Foundation

/// The coordinator's validated configuration (built from `CoordinatorConfigFile`).
public struct CoordinatorConfig: Sendable {
    /// Holds `coordinator.sqlite`, `keys/`, `artifacts/` and `uploads/`.
    public var dataDirectory: URL
    public var broker: BrokerConfig
    /// MQTT client id; several coordinators of one group need distinct ids.
    public var clientID: String
    /// Address and port of the HTTP API, dashboard and `/metrics`.
    public var httpHost: String
    public var httpPort: Int
    /// Bearer tokens accepted by the API (operator name → token).
    public var apiTokens: [String: String]
    /// Cap on the bytes per second of artifact chunks this coordinator publishes.
    public var chunkBandwidthBytesPerSecond: Int
    public var chunkSize: Int
    /// Telemetry aggregates older than this are deleted.
    public var telemetryRetentionSeconds: Int
    /// Width of one telemetry aggregation bucket.
    public var telemetryBucketSeconds: Int
    /// Directory of hardware-class profiles (`*.json`, deploy/hardware-classes).
    public var hardwareClassDirectory: URL
    /// How often the rollout engine is stepped.
    public var tickSeconds: Double
    /// What one device may publish per topic kind before the excess is dropped
    /// (`IngestRateLimiter`).
    public var ingestBudget: IngestBudget

    public init(
        dataDirectory: URL, broker: BrokerConfig, clientID: String = "flotilla-coordinator", httpHost: String = "127.0.0.1",
        httpPort: Int = 8480, apiTokens: [String: String], chunkBandwidthBytesPerSecond: Int = 64 << 20,
        chunkSize: Int = 256 << 10, telemetryRetentionSeconds: Int = 14 * 86_400, telemetryBucketSeconds: Int = 60,
        hardwareClassDirectory: URL, tickSeconds: Double = 1, ingestBudget: IngestBudget = .default
    ) throws(CoordinatorConfigError) {
        guard (0...65535).contains(httpPort) else { throw .invalid(field: "httpPort", detail: "\(httpPort) is outside 0...65535") }
        guard !apiTokens.isEmpty else {
            throw .invalid(field: "apiTokenFiles", detail: "no API token: name at least one operator token file")
        }
        for (name, token) in apiTokens where token.utf8.count < 16 {
            throw .invalid(
                field: "apiTokenFiles", detail: "the token of '\(name)' has \(token.utf8.count) bytes; use at least 16 random bytes")
        }
        guard chunkBandwidthBytesPerSecond >= 4096 else {
            throw .invalid(field: "chunkBandwidthBytesPerSecond", detail: "\(chunkBandwidthBytesPerSecond) is below 4096 bytes/s")
        }
        guard (4096...(8 << 20)).contains(chunkSize) else {
            throw .invalid(field: "chunkSize", detail: "\(chunkSize) is outside 4 KiB...8 MiB (256 KiB suits Mosquitto)")
        }
        guard telemetryBucketSeconds >= 1, telemetryRetentionSeconds >= telemetryBucketSeconds else {
            throw .invalid(field: "telemetryRetentionSeconds", detail: "must be at least one bucket (\(telemetryBucketSeconds) s)")
        }
        guard tickSeconds > 0 else { throw .invalid(field: "tickSeconds", detail: "must be positive") }
        guard ingestBudget.messagesPerSecond > 0, ingestBudget.messagesPerSecond.isFinite else {
            throw .invalid(
                field: "ingestMessagesPerSecond",
                detail: "\(ingestBudget.messagesPerSecond) must be a positive number of messages per second")
        }
        guard ingestBudget.burst >= 1, ingestBudget.burst.isFinite else {
            throw .invalid(field: "ingestBurst", detail: "\(ingestBudget.burst) must be at least 1 message")
        }
        self.dataDirectory = dataDirectory
        self.broker = broker
        self.clientID = clientID
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.apiTokens = apiTokens
        self.chunkBandwidthBytesPerSecond = chunkBandwidthBytesPerSecond
        self.chunkSize = chunkSize
        self.telemetryRetentionSeconds = telemetryRetentionSeconds
        self.telemetryBucketSeconds = telemetryBucketSeconds
        self.hardwareClassDirectory = hardwareClassDirectory
        self.tickSeconds = tickSeconds
        self.ingestBudget = ingestBudget
    }
}

/// A configuration that cannot be used: names the field and says what to write instead.
public enum CoordinatorConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(field: String, detail: String)
    case unreadable(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalid(let field, let detail): "coordinator config: '\(field)' \(detail)"
        case .unreadable(let path, let detail): "coordinator config: cannot read '\(path)': \(detail)"
        }
    }
}
