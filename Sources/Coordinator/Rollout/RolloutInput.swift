public import FleetProtocol

/// What the engine is told at each step: the time, the devices matching the target as their
/// own reports describe them, the telemetry aggregates it asked for (`RolloutEngine.metricsQueries`),
/// and the operator commands received since the last step, in order.
public struct RolloutInput: Sendable, Equatable {
    public var nowMs: Int64
    public var devices: [RolloutDevice]
    public var metrics: [ReleaseClassKey: ClassMetrics]
    public var commands: [RolloutCommand]

    public init(
        nowMs: Int64, devices: [RolloutDevice], metrics: [ReleaseClassKey: ClassMetrics] = [:], commands: [RolloutCommand] = []
    ) {
        self.nowMs = nowMs
        self.devices = devices
        self.metrics = metrics
        self.commands = commands
    }
}

/// One device matching the rollout's target, as it reported itself.
public struct RolloutDevice: Codable, Sendable, Equatable {
    public var deviceID: String
    public var hardwareClass: String
    public var online: Bool
    /// What the device says it runs (nil: nothing installed).
    public var running: RunningModel?
    /// The agent's update phase ("idle", "downloading", "failed", ...).
    public var phase: String
    public var lastRollback: RollbackRecord?
    /// The release of the device's last `downloadFailed`/`updateFailed` event, if the caller
    /// tracks events: the state report alone does not say which release a failure was for.
    public var lastFailedReleaseSequence: UInt64?

    public init(
        deviceID: String, hardwareClass: String, online: Bool, running: RunningModel? = nil, phase: String = "idle",
        lastRollback: RollbackRecord? = nil, lastFailedReleaseSequence: UInt64? = nil
    ) {
        self.deviceID = deviceID
        self.hardwareClass = hardwareClass
        self.online = online
        self.running = running
        self.phase = phase
        self.lastRollback = lastRollback
        self.lastFailedReleaseSequence = lastFailedReleaseSequence
    }

    /// From the device's latest state report and liveness.
    public init(report: DeviceStateReport, online: Bool, lastFailedReleaseSequence: UInt64? = nil) {
        self.init(
            deviceID: report.deviceID, hardwareClass: report.hardwareClass, online: online, running: report.running,
            phase: report.phase, lastRollback: report.lastRollback, lastFailedReleaseSequence: lastFailedReleaseSequence)
    }
}

/// Telemetry aggregates are kept per release artifact and hardware class.
public struct ReleaseClassKey: Codable, Sendable, Hashable, CustomStringConvertible {
    public var hardwareClass: String
    public var artifactDigest: String

    public init(hardwareClass: String, artifactDigest: String) {
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
    }

    public var description: String { "\(hardwareClass)/\(artifactDigest.prefix(12))" }
}

/// Which aggregate the engine needs for its next step: `sinceMs` nil means the caller's usual
/// window for a baseline (e.g. the retention period); otherwise only telemetry from then on.
public struct MetricsQuery: Sendable, Hashable {
    public var key: ReleaseClassKey
    public var sinceMs: Int64?
    public var isBaseline: Bool

    public init(key: ReleaseClassKey, sinceMs: Int64?, isBaseline: Bool) {
        self.key = key
        self.sinceMs = sinceMs
        self.isBaseline = isBaseline
    }
}

/// An operator's order, with who gave it (for the audit trail).
public struct RolloutCommand: Codable, Sendable, Equatable {
    public enum Operation: Codable, Sendable, Equatable {
        /// Stop starting waves and adding devices; gates keep being judged.
        case pause
        case resume
        /// Stop: cancel downloads in flight, roll nothing back.
        case abort
        /// Roll one class (or every class, nil) back to its baseline.
        case rollBack(hardwareClass: String?)
    }

    public var operation: Operation
    public var actor: String

    public init(_ operation: Operation, by actor: String) {
        self.operation = operation
        self.actor = actor
    }
}
