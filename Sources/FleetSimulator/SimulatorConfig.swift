public import Agent
public import FleetMQTT
public import Foundation
public import ModelArtifact

/// Everything a simulated fleet is built from.
public struct SimulatorConfig: Sendable {
    public var deviceCount: Int
    public var classMix: ClassMix
    /// Each device's data directory is `dataRoot/<device id>`; reusing a root resumes the
    /// fleet where it stopped (installed models, persisted downloads, counters).
    public var dataRoot: URL
    public var broker: BrokerConfig
    public var pinnedKeys: [ArtifactPublicKey]
    /// Synthetic inferences per second per device on the serving model (0: none).
    public var inferenceRate: Double
    public var telemetryIntervalSeconds: Double
    public var faults: [SimulatedFault]
    /// Chooses which devices get each fault; the same seed gives the same choice.
    public var seed: UInt64
    /// New MQTT connections per second while the fleet starts, so a thousand agents do not
    /// hit the broker in one burst.
    public var connectsPerSecond: Double
    /// Device ids are `<prefix>-0001`, `<prefix>-0002`, ...
    public var deviceIDPrefix: String
    public var thresholds: ValidationThresholds
    public var crashLoopLimit: Int
    public var stallTimeoutMs: Int64

    public init(
        deviceCount: Int, classMix: ClassMix, dataRoot: URL, broker: BrokerConfig, pinnedKeys: [ArtifactPublicKey],
        inferenceRate: Double = 1, telemetryIntervalSeconds: Double = 60, faults: [SimulatedFault] = [], seed: UInt64 = 1,
        connectsPerSecond: Double = 200, deviceIDPrefix: String = "sim", thresholds: ValidationThresholds = ValidationThresholds(),
        crashLoopLimit: Int = 3, stallTimeoutMs: Int64 = 30_000
    ) throws(SimulatorError) {
        self.deviceCount = deviceCount
        self.classMix = classMix
        self.dataRoot = dataRoot
        self.broker = broker
        self.pinnedKeys = pinnedKeys
        self.inferenceRate = inferenceRate
        self.telemetryIntervalSeconds = telemetryIntervalSeconds
        self.faults = faults
        self.seed = seed
        self.connectsPerSecond = connectsPerSecond
        self.deviceIDPrefix = deviceIDPrefix
        self.thresholds = thresholds
        self.crashLoopLimit = crashLoopLimit
        self.stallTimeoutMs = stallTimeoutMs
        try validate()
    }

    func validate() throws(SimulatorError) {
        // 0 is allowed: the bare process, the baseline of memory measurements.
        guard (0...100_000).contains(deviceCount) else {
            throw .invalidOption(option: "--devices", value: "\(deviceCount)", detail: "must be in 0...100000")
        }
        guard inferenceRate >= 0, inferenceRate <= 1000 else {
            throw .invalidOption(option: "--rate", value: "\(inferenceRate)", detail: "must be in 0...1000 inferences per second")
        }
        guard telemetryIntervalSeconds >= 1 else {
            throw .invalidOption(option: "--telemetry-interval", value: "\(telemetryIntervalSeconds)", detail: "must be at least 1s")
        }
        guard connectsPerSecond > 0 else {
            throw .invalidOption(option: "--connect-rate", value: "\(connectsPerSecond)", detail: "must be positive")
        }
        guard !pinnedKeys.isEmpty else {
            throw .invalidOption(option: "--pinned-key", value: "", detail: "give at least one coordinator public key (PEM file)")
        }
        let known = Set(classMix.weights.map(\.name))
        for f in faults {
            if let c = f.hardwareClass, !known.contains(c) {
                throw .invalidOption(
                    option: "--fault", value: f.description,
                    detail: "class \(c) is not in the fleet (\(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    /// The id of device `index` (0-based).
    public func deviceID(_ index: Int) -> String {
        let n = String(index + 1)
        return "\(deviceIDPrefix)-\(String(repeating: "0", count: max(0, 4 - n.count)))\(n)"
    }
}
