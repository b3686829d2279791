import FleetMQTT
public import Foundation

/// The on-disk configuration (JSON, deploy/coordinator.example.json). Secrets live in files
/// named here, so the config itself can be world-readable.
public struct CoordinatorConfigFile: Codable, Sendable {
    public struct TLSFiles: Codable, Sendable {
        public var caFile: String
        public var certFile: String?
        public var keyFile: String?
    }

    public var dataDirectory: String
    public var brokerURL: String
    /// MQTT version: `"5"` (default), `"3.1.1"` or `"auto"` (docs/brokers.md).
    public var `protocol`: String?
    public var tls: TLSFiles?
    public var username: String?
    public var passwordFile: String?
    public var clientId: String?
    /// `host:port` of the HTTP API (default 127.0.0.1:8480).
    public var listen: String?
    /// Operator name → file holding that operator's bearer token.
    public var apiTokenFiles: [String: String]
    public var chunkBandwidthBytesPerSecond: Int?
    public var chunkSize: Int?
    public var telemetryRetentionSeconds: Int?
    public var telemetryBucketSeconds: Int?
    public var hardwareClassDirectory: String?
    public var tickSeconds: Double?
    /// Per device and topic kind: sustained rate and burst before messages are dropped
    /// (defaults 10/s and 600, `IngestBudget.default`).
    public var ingestMessagesPerSecond: Double?
    public var ingestBurst: Double?

    public init(dataDirectory: String, brokerURL: String, apiTokenFiles: [String: String]) {
        self.dataDirectory = dataDirectory
        self.brokerURL = brokerURL
        self.apiTokenFiles = apiTokenFiles
    }

    public static func load(_ url: URL) throws(CoordinatorConfigError) -> CoordinatorConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .unreadable(path: url.path, detail: error.localizedDescription) }
        let file: CoordinatorConfigFile
        do { file = try JSONDecoder().decode(CoordinatorConfigFile.self, from: data) } catch {
            throw .invalid(field: url.lastPathComponent, detail: "is not valid coordinator JSON: \(error)")
        }
        return try file.resolve(relativeTo: url.deletingLastPathComponent())
    }

    public func resolve(relativeTo base: URL) throws(CoordinatorConfigError) -> CoordinatorConfig {
        let parsed: (host: String, port: Int, tls: Bool)
        do { parsed = try BrokerConfig.parse(url: brokerURL) } catch { throw .invalid(field: "brokerURL", detail: error.detail) }
        let mqttProtocol: BrokerProtocol
        do { mqttProtocol = try BrokerProtocol.parse(`protocol`) } catch { throw .invalid(field: "protocol", detail: error.detail) }
        let password = try passwordFile.map { path throws(CoordinatorConfigError) in try Self.secret(path, field: "passwordFile") }
        var tokens: [String: String] = [:]
        for (name, path) in apiTokenFiles { tokens[name] = try Self.secret(path, field: "apiTokenFiles.\(name)") }
        var host = "127.0.0.1"
        var port = 8480
        if let listen {
            guard let colon = listen.lastIndex(of: ":"), let p = Int(listen[listen.index(after: colon)...]) else {
                throw .invalid(field: "listen", detail: "'\(listen)' is not host:port, e.g. 127.0.0.1:8480")
            }
            host = String(listen[..<colon])
            port = p
        }
        let broker = BrokerConfig(
            host: parsed.host, port: parsed.port, useTLS: parsed.tls, caFile: tls?.caFile, certificateFile: tls?.certFile,
            keyFile: tls?.keyFile, username: username, password: password, mqttProtocol: mqttProtocol)
        let classes = hardwareClassDirectory.map { URL(fileURLWithPath: $0, relativeTo: base) } ?? Self.defaultClassDirectory
        return try CoordinatorConfig(
            dataDirectory: URL(fileURLWithPath: dataDirectory, relativeTo: base), broker: broker,
            clientID: clientId ?? "flotilla-coordinator", httpHost: host, httpPort: port, apiTokens: tokens,
            chunkBandwidthBytesPerSecond: chunkBandwidthBytesPerSecond ?? 64 << 20, chunkSize: chunkSize ?? 256 << 10,
            telemetryRetentionSeconds: telemetryRetentionSeconds ?? 14 * 86_400, telemetryBucketSeconds: telemetryBucketSeconds ?? 60,
            hardwareClassDirectory: classes, tickSeconds: tickSeconds ?? 1,
            ingestBudget: IngestBudget(
                messagesPerSecond: ingestMessagesPerSecond ?? IngestBudget.default.messagesPerSecond,
                burst: ingestBurst ?? IngestBudget.default.burst))
    }

    /// Packaged installs put the profiles here (deploy/hardware-classes in the source tree).
    public static let defaultClassDirectory = URL(fileURLWithPath: "/usr/share/flotilla/hardware-classes")

    static func secret(_ path: String, field: String) throws(CoordinatorConfigError) -> String {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw .invalid(field: field, detail: "names '\(path)', which cannot be read")
        }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
