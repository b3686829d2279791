/// A rollout as the operator watches it: its waves, per-class progress and gate results.
public struct APIRollout: Codable, Sendable, Equatable {
    public var id: String
    public var modelName: String
    public var version: String
    public var releaseSequence: Int
    public var target: String
    /// `planned`, `running`, `paused`, `halted`, `completed`, `completedWithHaltedClasses`,
    /// `aborted` or `rolledBack` (RolloutStatus).
    public var status: String
    /// Why the rollout is in its status, when that is not obvious (a failed gate, an abort).
    public var statusReason: String?
    public var createdBy: String
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    /// Index into `waves` of the wave in progress (the last one once done).
    public var currentWave: Int
    public var soakSeconds: Double
    public var gate: APIGateOptions
    public var onFailure: APIRollbackPolicy
    public var waves: [APIWave]
    public var classes: [APIRolloutClass]

    public init(
        id: String, modelName: String, version: String, releaseSequence: Int, target: String, status: String,
        statusReason: String? = nil, createdBy: String, createdAtMs: Int64, updatedAtMs: Int64, currentWave: Int,
        soakSeconds: Double, gate: APIGateOptions, onFailure: APIRollbackPolicy, waves: [APIWave], classes: [APIRolloutClass]
    ) {
        self.id = id
        self.modelName = modelName
        self.version = version
        self.releaseSequence = releaseSequence
        self.target = target
        self.status = status
        self.statusReason = statusReason
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.currentWave = currentWave
        self.soakSeconds = soakSeconds
        self.gate = gate
        self.onFailure = onFailure
        self.waves = waves
        self.classes = classes
    }

    /// True once the rollout will not move without an operator: it is terminal
    /// (`RolloutStatus.isTerminal`, `completedWithHaltedClasses` included) or halted. What
    /// `flotilla rollout status --watch` stops on. A status this client does not know is not
    /// finished.
    public var isFinished: Bool {
        guard let s = RolloutStatus(rawValue: status) else { return false }
        return s.isTerminal || s == .halted
    }
}

/// One wave: a cumulative fraction of each class's matching devices.
public struct APIWave: Codable, Sendable, Equatable {
    public var index: Int
    public var fraction: Double
    /// `pending`, `deploying`, `soaking`, `gating`, `passed` or `failed`.
    public var status: String
    public var startedAtMs: Int64?
    public var soakEndsAtMs: Int64?
    public var classes: [APIWaveClass]

    public init(
        index: Int, fraction: Double, status: String, startedAtMs: Int64? = nil, soakEndsAtMs: Int64? = nil,
        classes: [APIWaveClass]
    ) {
        self.index = index
        self.fraction = fraction
        self.status = status
        self.startedAtMs = startedAtMs
        self.soakEndsAtMs = soakEndsAtMs
        self.classes = classes
    }
}

/// One class within one wave: device counts (cumulative up to this wave) and its gate.
public struct APIWaveClass: Codable, Sendable, Equatable {
    public var hardwareClass: String
    public var targeted: Int
    /// Devices that committed the release.
    public var updated: Int
    /// Devices that failed to install or rolled themselves back.
    public var failed: Int
    /// nil until the gate was evaluated.
    public var gatePassed: Bool?
    public var checks: [APIGateCheck]

    public init(hardwareClass: String, targeted: Int, updated: Int, failed: Int, gatePassed: Bool? = nil, checks: [APIGateCheck] = []) {
        self.hardwareClass = hardwareClass
        self.targeted = targeted
        self.updated = updated
        self.failed = failed
        self.gatePassed = gatePassed
        self.checks = checks
    }
}

/// One comparison of a gate: `measured` against `threshold` (derived from `baseline` when
/// the check is relative).
public struct APIGateCheck: Codable, Sendable, Equatable {
    /// `devicesReporting`, `installSuccessRate`, `latencyP95Us`, `accuracy`, `agreement`...
    public var metric: String
    public var measured: Double?
    public var baseline: Double?
    /// Nil when the check had nothing to derive one from (skipped: no baseline value and no
    /// absolute limit).
    public var threshold: Double?
    public var passed: Bool
    public var detail: String?

    public init(metric: String, measured: Double?, baseline: Double? = nil, threshold: Double?, passed: Bool, detail: String? = nil) {
        self.metric = metric
        self.measured = measured
        self.baseline = baseline
        self.threshold = threshold
        self.passed = passed
        self.detail = detail
    }
}

/// One class over the whole rollout: its state and the new release's metrics beside the
/// baseline's on the same class.
public struct APIRolloutClass: Codable, Sendable, Equatable {
    public var hardwareClass: String
    /// `active`, `halted`, `rolledBack` or `done`.
    public var status: String
    public var reason: String?
    /// The release the class returns to on rollback (nil: no previous release).
    public var baselineVersion: String?
    public var release: APIClassMetrics?
    public var baseline: APIClassMetrics?

    public init(
        hardwareClass: String, status: String, reason: String? = nil, baselineVersion: String? = nil,
        release: APIClassMetrics? = nil, baseline: APIClassMetrics? = nil
    ) {
        self.hardwareClass = hardwareClass
        self.status = status
        self.reason = reason
        self.baselineVersion = baselineVersion
        self.release = release
        self.baseline = baseline
    }
}

/// Aggregated telemetry of one release on one class.
public struct APIClassMetrics: Codable, Sendable, Equatable {
    public var devices: Int
    public var inferences: Int
    public var errors: Int
    public var latencyP50Us: Double?
    public var latencyP95Us: Double?
    public var latencyP99Us: Double?
    /// Mean validation accuracy (0–1).
    public var accuracy: Double?
    /// Mean top-1 agreement with the fp32 reference (0–1).
    public var agreement: Double?

    public init(
        devices: Int, inferences: Int, errors: Int, latencyP50Us: Double? = nil, latencyP95Us: Double? = nil,
        latencyP99Us: Double? = nil, accuracy: Double? = nil, agreement: Double? = nil
    ) {
        self.devices = devices
        self.inferences = inferences
        self.errors = errors
        self.latencyP50Us = latencyP50Us
        self.latencyP95Us = latencyP95Us
        self.latencyP99Us = latencyP99Us
        self.accuracy = accuracy
        self.agreement = agreement
    }
}

/// The dry-run answer: which devices each wave would hit.
public struct APIRolloutPlan: Codable, Sendable, Equatable {
    public var modelName: String
    public var version: String
    public var target: String
    public var waves: [APIPlannedWave]

    public init(modelName: String, version: String, target: String, waves: [APIPlannedWave]) {
        self.modelName = modelName
        self.version = version
        self.target = target
        self.waves = waves
    }
}

public struct APIPlannedWave: Codable, Sendable, Equatable {
    public var index: Int
    public var fraction: Double
    /// Per class, the devices this wave adds (not those of earlier waves).
    public var classes: [APIPlannedClass]

    public init(index: Int, fraction: Double, classes: [APIPlannedClass]) {
        self.index = index
        self.fraction = fraction
        self.classes = classes
    }
}

public struct APIPlannedClass: Codable, Sendable, Equatable {
    public var hardwareClass: String
    public var deviceIDs: [String]

    public init(hardwareClass: String, deviceIDs: [String]) {
        self.hardwareClass = hardwareClass
        self.deviceIDs = deviceIDs
    }
}
