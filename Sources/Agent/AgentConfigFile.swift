import FleetMQTT
import FleetProtocol
public import Foundation
import ModelArtifact

/// The on-disk configuration (JSON, deploy/agent.example.json), turned into a validated
/// `AgentConfig`: key and secret files are read here, so errors name the file.
public struct AgentConfigFile: Codable, Sendable {
    public struct TLSFiles: Codable, Sendable {
        public var caFile: String
        public var certFile: String?
        public var keyFile: String?
    }

    public var deviceId: String
    public var brokerURL: String
    /// MQTT version: `"5"` (default), `"3.1.1"` or `"auto"` (docs/brokers.md).
    public var `protocol`: String?
    public var tls: TLSFiles?
    public var username: String?
    /// A file holding the password (kept out of the config so the config can be world-readable).
    public var passwordFile: String?
    public var dataDirectory: String
    /// Overrides the class detected from the CPU.
    public var hardwareClass: String?
    /// PEM files of the coordinator public keys to trust (several while keys rotate).
    public var pinnedKeyFiles: [String]
    public var thresholds: ValidationThresholds?
    public var telemetryIntervalSeconds: Double?
    public var maxArtifactBytes: Int?
    public var crashLoopLimit: Int?
    public var maxDownloadAttempts: Int?
    public var stallTimeoutSeconds: Double?
    public var socketPath: String?
    public var watchdog: WatchdogThresholds?
    public var shadow: ShadowThresholds?
    public var cancelBackoffSeconds: Double?
    /// Make download progress durable every this many chunks (default 16) ...
    public var downloadCheckpointChunks: Int?
    /// ... or this many milliseconds after the last checkpoint (default 500), whichever first.
    public var downloadCheckpointMs: Int?

    public static func load(_ url: URL) throws(AgentError) -> AgentConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .fileOperationFailed(path: url.path, operation: "read config", detail: "\(error.localizedDescription)")
        }
        let file: AgentConfigFile
        do { file = try JSONDecoder().decode(AgentConfigFile.self, from: data) } catch {
            throw .invalidConfig(field: url.lastPathComponent, detail: "is not valid agent JSON: \(error)")
        }
        return try file.resolve()
    }

    public func resolve() throws(AgentError) -> AgentConfig {
        let parsed: (host: String, port: Int, tls: Bool)
        do { parsed = try BrokerConfig.parse(url: brokerURL) } catch { throw .invalidConfig(field: "brokerURL", detail: error.detail) }
        let (host, port, useTLS) = parsed
        let mqttProtocol: BrokerProtocol
        do { mqttProtocol = try BrokerProtocol.parse(`protocol`) } catch { throw .invalidConfig(field: "protocol", detail: error.detail) }
        var password: String?
        if let passwordFile {
            guard let bytes = FileManager.default.contents(atPath: passwordFile) else {
                throw .invalidConfig(field: "passwordFile", detail: "names '\(passwordFile)', which cannot be read")
            }
            password = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var keys: [ArtifactPublicKey] = []
        for path in pinnedKeyFiles {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw .invalidConfig(field: "pinnedKeyFiles", detail: "names '\(path)', which cannot be read")
            }
            do { keys.append(try ArtifactPublicKey(pemRepresentation: String(decoding: bytes, as: UTF8.self))) } catch {
                throw .invalidConfig(field: "pinnedKeyFiles", detail: "'\(path)' is not an Ed25519 public key PEM: \(error)")
            }
        }
        guard let hardwareClass = hardwareClass ?? HardwareClass.current else {
            throw .invalidConfig(
                field: "hardwareClass",
                detail: "could not be detected (no AVX2, AVX-512 VNNI, NEON or dotprod); set one of \(HardwareClass.known)")
        }
        let broker = BrokerConfig(
            host: host, port: port, useTLS: useTLS, caFile: tls?.caFile, certificateFile: tls?.certFile, keyFile: tls?.keyFile,
            username: username,
            password: password, mqttProtocol: mqttProtocol)
        return try AgentConfig(
            deviceID: deviceId, broker: broker, dataDirectory: URL(fileURLWithPath: dataDirectory), hardwareClass: hardwareClass,
            pinnedKeys: keys,
            thresholds: thresholds ?? ValidationThresholds(), telemetryIntervalSeconds: telemetryIntervalSeconds ?? 60,
            maxArtifactBytes: maxArtifactBytes ?? 512 << 20, crashLoopLimit: crashLoopLimit ?? 3,
            maxDownloadAttempts: maxDownloadAttempts ?? 5,
            stallTimeoutMs: Int64((stallTimeoutSeconds ?? 30) * 1000), socketPath: socketPath, watchdog: watchdog ?? WatchdogThresholds(),
            shadow: shadow ?? ShadowThresholds(), cancelBackoffMs: Int64((cancelBackoffSeconds ?? 300) * 1000),
            downloadCheckpoint: DownloadCheckpointPolicy(
                chunks: downloadCheckpointChunks ?? 16, intervalMs: Int64(downloadCheckpointMs ?? 500)))
    }
}
