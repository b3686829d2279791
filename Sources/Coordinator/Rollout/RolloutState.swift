/// Where a rollout stands: everything needed to continue it after a restart, and everything
/// already decided, so a step never decides (or issues) the same thing twice.
public struct RolloutState: Codable, Sendable, Equatable {
    public var status: RolloutStatus = .planned
    public var startedAtMs: Int64?
    public var finishedAtMs: Int64?
    /// Index into `RolloutSpec.waves`.
    public var currentWave: Int = 0
    public var waveStartedAtMs: Int64?
    /// When the rollout was paused (the gate deadline is extended by the pause on resume).
    public var pausedAtMs: Int64?
    /// hardware class → its progress; a class appears with its first matching device.
    public var classes: [String: ClassProgress] = [:]
    /// device id → the wave it was put in and what it was sent.
    public var assignments: [String: DeviceAssignment] = [:]
    /// Devices seen at a wave start but left for a later wave (so they are not mistaken for
    /// devices that joined late).
    public var waiting: [String: String] = [:]
    /// Classes with matching devices but no variant, already reported once.
    public var classesWithoutVariant: [String] = []
    /// Every gate that was decided (passed or failed), in order.
    public var gateHistory: [GateResult] = []
    /// Actions decided but not yet confirmed done by the caller (see `RolloutEngine.acknowledge`).
    public var outbox: [IssuedRolloutAction] = []
    public var nextActionID: UInt64 = 1

    public init() {}

    /// When the current wave's soak began: once every active class has begun its own.
    public var soakStartedAtMs: Int64? {
        let active = classes.values.filter { $0.status == .active }
        guard !active.isEmpty else { return nil }
        var latest: Int64 = .min
        for c in active {
            guard let s = c.soakStartedAtMs else { return nil }
            latest = max(latest, s)
        }
        return latest
    }
}

/// The rollout's lifecycle (docs/rollouts.md draws it).
public enum RolloutStatus: String, Codable, Sendable, CaseIterable {
    /// Created, not stepped yet.
    case planned
    case running
    /// By an operator: no new wave, no new device; gates are still judged (a failure still
    /// rolls back).
    case paused
    /// A gate failed under `RollbackPolicy.none`: nothing advances until an operator rolls
    /// back or aborts.
    case halted
    /// Every class passed the last wave.
    case completed
    /// The last wave passed for the classes still active; at least one class was halted or
    /// rolled back on the way.
    case completedWithHaltedClasses
    case aborted
    /// Every class that was rolled out went back (policy `all`, or all classes failed, or an
    /// operator rolled back everything).
    case rolledBack

    /// Terminal rollouts take no more waves or devices (operators may still roll them back).
    public var isTerminal: Bool {
        switch self {
        case .planned, .running, .paused, .halted: false
        case .completed, .completedWithHaltedClasses, .aborted, .rolledBack: true
        }
    }
}

/// One hardware class within a rollout.
public struct ClassProgress: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Going through the waves.
        case active
        /// Stopped (gate failed, abort); its devices were not sent back.
        case halted
        /// Stopped and its devices were sent back to the baseline (or cleared).
        case rolledBack
        /// Passed the last wave.
        case done
    }

    public var status: Status = .active
    /// When this class entered the current wave (the wave start, or its first device's arrival).
    public var waveStartedAtMs: Int64
    /// When enough of its devices ran the release committed for the soak to count.
    public var soakStartedAtMs: Int64?
    /// Undecided at this time → the gate fails.
    public var gateDeadlineMs: Int64
    /// The highest wave whose gate this class passed (nil: none yet).
    public var passedWave: Int?
    /// Waves whose chunks were already published for this class.
    public var chunksPublishedWaves: [Int] = []
    /// The last judgement of the current wave's gate (also while it waits), for status display.
    public var latestGate: GateResult?
    /// Why it stopped, and the checks that failed (when a gate did it).
    public var stopReason: String?
    public var failedChecks: [GateCheck] = []

    public init(waveStartedAtMs: Int64, gateDeadlineMs: Int64) {
        self.waveStartedAtMs = waveStartedAtMs
        self.gateDeadlineMs = gateDeadlineMs
    }
}

/// A device taken into the rollout.
public struct DeviceAssignment: Codable, Sendable, Equatable {
    public var hardwareClass: String
    public var wave: Int
    /// It arrived after its wave had started.
    public var joinedLate: Bool
    public var desiredIssuedAtMs: Int64
    /// When it was sent back (rollback or cleared desired state), if it was.
    public var revertIssuedAtMs: Int64?

    public init(hardwareClass: String, wave: Int, joinedLate: Bool, desiredIssuedAtMs: Int64) {
        self.hardwareClass = hardwareClass
        self.wave = wave
        self.joinedLate = joinedLate
        self.desiredIssuedAtMs = desiredIssuedAtMs
    }
}

/// An action with the id the caller acknowledges once it has carried it out.
public struct IssuedRolloutAction: Codable, Sendable, Equatable {
    public var id: UInt64
    public var action: RolloutAction

    public init(id: UInt64, action: RolloutAction) {
        self.id = id
        self.action = action
    }
}
