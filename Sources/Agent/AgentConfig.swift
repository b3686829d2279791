public import FleetMQTT
import FleetProtocol
public import Foundation
public import ModelArtifact

/// Gates a trial model must pass on the device, on top of the manifest's expected metrics.
public struct ValidationThresholds: Codable, Sendable, Equatable {
    /// Measured accuracy may fall this far below the manifest's expected accuracy (0...1).
    public var accuracyTolerance: Double = 0.02
    /// Measured top-1 agreement with the fp32 reference outputs may fall this far below the
    /// manifest's (or 1 when it states none).
    public var agreementTolerance: Double = 0.05
    /// p99 latency cap in milliseconds (nil: none); the manifest's p95 budget applies too.
    public var maxLatencyP99Ms: Double?
    /// Timed runs of the first sample for the latency percentiles.
    public var latencyRuns: Int = 20

    public init(accuracyTolerance: Double = 0.02, agreementTolerance: Double = 0.05, maxLatencyP99Ms: Double? = nil, latencyRuns: Int = 20)
    {
        self.accuracyTolerance = accuracyTolerance
        self.agreementTolerance = agreementTolerance
        self.maxLatencyP99Ms = maxLatencyP99Ms
        self.latencyRuns = latencyRuns
    }
}

/// The agent's validated configuration.
public struct AgentConfig: Sendable {
    public var deviceID: String
    public var broker: BrokerConfig
    public var dataDirectory: URL
    /// The detected class unless the config overrides it.
    public var hardwareClass: String
    public var pinnedKeys: [ArtifactPublicKey]
    public var thresholds: ValidationThresholds
    public var telemetryIntervalSeconds: Double
    /// Caps both the compressed download and the decompressed artifact.
    public var maxArtifactBytes: Int
    public var crashLoopLimit: Int
    public var maxDownloadAttempts: Int
    public var stallTimeoutMs: Int64
    /// The local inference endpoint (nil: none).
    public var socketPath: String?
    /// Intra-op threads of each model run (nil: every CPU the process may use, right for a
    /// device). The fleet simulator sets 1: a thousand simulated devices in one process must
    /// not each park a worker thread per session.
    public var inferenceThreads: Int?
    /// Faults injected into this agent's own model runs: for the fleet simulator and tests
    /// only; a device runs with `.none` (see FaultInjection).
    public var faults: FaultInjection
    public var watchdog: WatchdogThresholds
    public var shadow: ShadowThresholds
    /// First wait before a canceled download still desired starts again (doubles per cancel).
    public var cancelBackoffMs: Int64
    /// How often download progress is made durable (every N chunks or T ms).
    public var downloadCheckpoint: DownloadCheckpointPolicy
    /// Crash tests only: hold after persisting this phase (TestPause; nil on a device).
    public var testPause: TestPause?

    public init(
        deviceID: String, broker: BrokerConfig, dataDirectory: URL, hardwareClass: String, pinnedKeys: [ArtifactPublicKey],
        thresholds: ValidationThresholds = ValidationThresholds(), telemetryIntervalSeconds: Double = 60, maxArtifactBytes: Int = 512 << 20,
        crashLoopLimit: Int = 3, maxDownloadAttempts: Int = 5, stallTimeoutMs: Int64 = 30_000, socketPath: String? = nil,
        inferenceThreads: Int? = nil, faults: FaultInjection = .none,
        watchdog: WatchdogThresholds = WatchdogThresholds(), shadow: ShadowThresholds = ShadowThresholds(),
        cancelBackoffMs: Int64 = 300_000,
        downloadCheckpoint: DownloadCheckpointPolicy = DownloadCheckpointPolicy()
    ) throws(AgentError) {
        self.deviceID = deviceID
        self.broker = broker
        self.dataDirectory = dataDirectory
        self.hardwareClass = hardwareClass
        self.pinnedKeys = pinnedKeys
        self.thresholds = thresholds
        self.telemetryIntervalSeconds = telemetryIntervalSeconds
        self.maxArtifactBytes = maxArtifactBytes
        self.crashLoopLimit = crashLoopLimit
        self.maxDownloadAttempts = maxDownloadAttempts
        self.stallTimeoutMs = stallTimeoutMs
        self.socketPath = socketPath
        self.inferenceThreads = inferenceThreads
        self.faults = faults
        self.watchdog = watchdog
        self.shadow = shadow
        self.cancelBackoffMs = cancelBackoffMs
        self.downloadCheckpoint = downloadCheckpoint
        try validate()
    }

    func validate() throws(AgentError) {
        do { try TopicID.validate(deviceID, as: "device id") } catch { throw .invalidConfig(field: "deviceId", detail: error.description) }
        do { try TopicID.validate(hardwareClass, as: "hardware class") } catch {
            throw .invalidConfig(field: "hardwareClass", detail: error.description)
        }
        guard !broker.host.isEmpty, (1...65535).contains(broker.port) else {
            throw .invalidConfig(field: "brokerURL", detail: "host '\(broker.host)' port \(broker.port) is not a usable address")
        }
        if broker.useTLS, broker.caFile == nil { throw .invalidConfig(field: "tls.caFile", detail: "is required for mqtts://") }
        for (field, path) in [("tls.caFile", broker.caFile), ("tls.certFile", broker.certificateFile), ("tls.keyFile", broker.keyFile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw .invalidConfig(field: field, detail: "names '\(path)', which is not a readable file")
            }
        }
        if (broker.certificateFile == nil) != (broker.keyFile == nil) {
            throw .invalidConfig(field: "tls", detail: "needs both certFile and keyFile for client certificates, or neither")
        }
        if (broker.username == nil) != (broker.password == nil) {
            throw .invalidConfig(field: "username/passwordFile", detail: "must be given together")
        }
        guard !pinnedKeys.isEmpty else {
            throw .invalidConfig(field: "pinnedKeys", detail: "is empty; pin at least one coordinator public key (PEM file)")
        }
        guard telemetryIntervalSeconds >= 1 else { throw .invalidConfig(field: "telemetryIntervalSeconds", detail: "must be at least 1") }
        guard maxArtifactBytes > 0 else { throw .invalidConfig(field: "maxArtifactBytes", detail: "must be positive") }
        guard thresholds.latencyRuns >= 1, thresholds.latencyRuns <= 100_000 else {
            throw .invalidConfig(field: "thresholds.latencyRuns", detail: "must be in 1...100000")
        }
        guard (0...1).contains(thresholds.accuracyTolerance), (0...1).contains(thresholds.agreementTolerance) else {
            throw .invalidConfig(field: "thresholds", detail: "tolerances must be fractions in 0...1")
        }
        try watchdog.validate()
        guard stallTimeoutMs >= 1000 else { throw .invalidConfig(field: "stallTimeoutSeconds", detail: "must be at least 1") }
        try downloadCheckpoint.validate(stallTimeoutMs: stallTimeoutMs)
        try shadow.validate()
        guard cancelBackoffMs >= 1000 else { throw .invalidConfig(field: "cancelBackoffSeconds", detail: "must be at least 1") }
        if let p99 = thresholds.maxLatencyP99Ms, !(p99 > 0) {
            throw .invalidConfig(field: "thresholds.maxLatencyP99Ms", detail: "must be positive")
        }
        if let t = inferenceThreads, !(1...256).contains(t) {
            throw .invalidConfig(field: "inferenceThreads", detail: "must be in 1...256, not \(t)")
        }
        try faults.validate()
    }
}
