public import FleetProtocol

/// One device as the registry knows it: what it reported last (never what the coordinator
/// believes it should run), its liveness, and the labels operators gave it.
public struct DeviceRecord: Codable, Sendable, Equatable {
    public var id: String
    public var hardwareClass: String
    /// nil until the first state report.
    public var agentVersion: String?
    /// Set by operators only; agent reports never touch them.
    public var labels: [String: String]
    /// What the device runs, as it last reported (nil: nothing installed, or no report yet).
    public var running: RunningModel?
    /// The agent's update phase ("idle", "downloading", "trial", ...); nil until the first report.
    public var phase: String?
    public var pendingReleaseSequence: UInt64?
    /// The last desired-state sequence the agent said it accepted.
    public var acceptedDesiredSequence: UInt64?
    public var online: Bool
    /// The connection the `online` flag belongs to (nil until the first online status).
    public var connectionSequence: UInt64?
    /// Coordinator clock, milliseconds since 1970.
    public var firstSeenMs: Int64
    public var lastSeenMs: Int64
    /// The sequence of the report stored; an older one delivered late is ignored.
    public var lastStateSequence: UInt64?
    /// Device clock of that report.
    public var lastReportedAtMs: Int64?
    public var lastRollback: RollbackRecord?

    public init(
        id: String, hardwareClass: String, agentVersion: String? = nil, labels: [String: String] = [:], running: RunningModel? = nil,
        phase: String? = nil, pendingReleaseSequence: UInt64? = nil, acceptedDesiredSequence: UInt64? = nil, online: Bool = false,
        connectionSequence: UInt64? = nil, firstSeenMs: Int64, lastSeenMs: Int64, lastStateSequence: UInt64? = nil,
        lastReportedAtMs: Int64? = nil, lastRollback: RollbackRecord? = nil
    ) {
        self.id = id
        self.hardwareClass = hardwareClass
        self.agentVersion = agentVersion
        self.labels = labels
        self.running = running
        self.phase = phase
        self.pendingReleaseSequence = pendingReleaseSequence
        self.acceptedDesiredSequence = acceptedDesiredSequence
        self.online = online
        self.connectionSequence = connectionSequence
        self.firstSeenMs = firstSeenMs
        self.lastSeenMs = lastSeenMs
        self.lastStateSequence = lastStateSequence
        self.lastReportedAtMs = lastReportedAtMs
        self.lastRollback = lastRollback
    }

    /// The value `selector` matches for `key`: the pseudo-labels `id` and `class` are this
    /// device's id and hardware class; anything else is an operator label.
    public func labelValue(_ key: String) -> String? {
        switch key {
        case LabelSelector.idKey: id
        case LabelSelector.classKey: hardwareClass
        default: labels[key]
        }
    }
}
