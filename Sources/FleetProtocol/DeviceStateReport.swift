/// One of the two model slots on a device: the agent installs beside the running model and
/// switches atomically.
public enum Slot: String, Codable, Sendable, CaseIterable {
    case a, b
    public var other: Slot { self == .a ? .b : .a }
}

/// What the device actually runs, published retained on `.../state` on every connect and every
/// change. The coordinator reconciles against this, never against its own belief.
public struct DeviceStateReport: WireMessage, Equatable {
    public static let messageType = "deviceState"

    public var deviceID: String
    public var hardwareClass: String
    public var agentVersion: String
    /// Increases with every report from this device (across restarts: it is persisted), so a
    /// reader can drop an older report delivered late.
    public var sequence: UInt64
    public var reportedAtMs: Int64
    /// nil when no model was ever installed.
    public var running: RunningModel?
    /// The update phase the agent is in ("idle", "downloading", "trial", ...).
    public var phase: String
    /// The release being downloaded or tried, if any.
    public var pendingReleaseSequence: UInt64?
    /// The last desired-state sequence the agent accepted.
    public var desiredSequence: UInt64?
    public var lastRollback: RollbackRecord?

    public init(
        deviceID: String, hardwareClass: String, agentVersion: String, sequence: UInt64, reportedAtMs: Int64, running: RunningModel?,
        phase: String, pendingReleaseSequence: UInt64? = nil, desiredSequence: UInt64? = nil, lastRollback: RollbackRecord? = nil
    ) {
        self.deviceID = deviceID
        self.hardwareClass = hardwareClass
        self.agentVersion = agentVersion
        self.sequence = sequence
        self.reportedAtMs = reportedAtMs
        self.running = running
        self.phase = phase
        self.pendingReleaseSequence = pendingReleaseSequence
        self.desiredSequence = desiredSequence
        self.lastRollback = lastRollback
    }
}

public struct RunningModel: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable {
        /// Loaded in its slot, not yet committed (validation or shadow period running).
        case trial
        case committed
    }

    public var modelName: String
    public var modelVersion: String
    public var releaseSequence: UInt64
    public var artifactDigest: String
    public var slot: Slot
    public var status: Status

    public init(modelName: String, modelVersion: String, releaseSequence: UInt64, artifactDigest: String, slot: Slot, status: Status) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.releaseSequence = releaseSequence
        self.artifactDigest = artifactDigest
        self.slot = slot
        self.status = status
    }
}

/// Why an update did not stick: a code for machines, a sentence for humans, and for metric
/// checks the measured value against its threshold.
public struct FailureReason: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Codable, Sendable {
        case downloadFailed, digestMismatch, installFailed, loadFailed, validationFailed, crashLoop, watchdogRegression
        case rollbackDirective, canceled, downgradeRefused, foreignHardwareClass, invalidDesiredState
    }

    public var code: Code
    public var detail: String
    /// The metric that failed ("accuracy", "agreement", "latencyP99Us", ...).
    public var metric: String?
    public var measured: Double?
    public var threshold: Double?

    public init(code: Code, detail: String, metric: String? = nil, measured: Double? = nil, threshold: Double? = nil) {
        self.code = code
        self.detail = detail
        self.metric = metric
        self.measured = measured
        self.threshold = threshold
    }

    public var description: String {
        var text = "\(code.rawValue): \(detail)"
        if let metric, let measured, let threshold { text += " (\(metric) measured \(measured), threshold \(threshold))" }
        return text
    }
}

public struct RollbackRecord: Codable, Sendable, Hashable {
    /// The release that was rolled back.
    public var releaseSequence: UInt64
    public var artifactDigest: String
    public var reason: FailureReason
    public var atMs: Int64

    public init(releaseSequence: UInt64, artifactDigest: String, reason: FailureReason, atMs: Int64) {
        self.releaseSequence = releaseSequence
        self.artifactDigest = artifactDigest
        self.reason = reason
        self.atMs = atMs
    }
}
