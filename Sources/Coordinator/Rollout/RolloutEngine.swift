/// A staged rollout as a value: `step` takes the time, the devices matching the target, the
/// telemetry it asked for and operator commands, and returns the actions to carry out. It does
/// no I/O and reads no clock, and it is Codable: the coordinator persists it after every step
/// and a restarted coordinator continues from the stored value.
///
/// Every action is also kept in `state.outbox` until the caller acknowledges it, so a
/// coordinator that dies between persisting a step and carrying out its actions re-runs them
/// from `pendingActions` after restart: decisions are taken exactly once, their effects are
/// delivered at least once (a desired state published twice is harmless: the agent sees the
/// same artifact; chunks published twice only cost bandwidth).
///
/// The rules (docs/rollouts.md): waves are per class; a class's devices are ordered by a stable
/// hash of rolloutID + deviceID and each wave takes its cumulative fraction rounded up, at
/// least one device in wave 0 (the canary); wave k+1 starts when every active class passed
/// wave k's gate after its soak; a failed gate halts the class and applies the rollback policy.
public struct RolloutEngine: Sendable, Equatable {
    public let spec: RolloutSpec
    public internal(set) var state: RolloutState

    /// Refuses an invalid spec with every problem listed.
    public init(spec: RolloutSpec, state: RolloutState = RolloutState()) throws(RolloutSpecError) {
        try spec.validate()
        self.spec = spec
        self.state = state
    }

    /// Advances the rollout by one step at `input.nowMs`; returns the new actions (also kept
    /// in the outbox until acknowledged).
    public mutating func step(_ input: RolloutInput) -> [IssuedRolloutAction] {
        var out: [RolloutAction] = []
        let now = input.nowMs
        let devices = Self.uniqueDevices(input.devices)
        if state.status == .planned {
            state.startedAtMs = now
            setStatus(.running, now: now, &out)
            startWave(0, now: now, devices: devices, &out)
        }
        for command in input.commands { apply(command, now: now, devices: devices, &out) }
        if state.status == .running || state.status == .paused {
            judgeGates(input, devices: devices, &out)
        }
        if state.status == .running {
            joinNewDevices(now: now, devices: devices, &out)
            advanceIfPassed(now: now, devices: devices, &out)
        }
        finishIfNoClassActive(now: now, &out)
        return issue(out)
    }

    /// Actions not yet acknowledged: after a restart, carry these out again first.
    public var pendingActions: [IssuedRolloutAction] { state.outbox }

    /// The caller has carried out every action up to and including `id`.
    public mutating func acknowledge(through id: UInt64) {
        state.outbox.removeAll { $0.id <= id }
    }

    /// The telemetry aggregates the next step needs: each active class's new release since
    /// its wave began, and its baseline release over the caller's usual window.
    public var metricsQueries: [MetricsQuery] {
        var queries: [MetricsQuery] = []
        for (cls, progress) in state.classes.sorted(by: { $0.key < $1.key }) where progress.status == .active {
            if let v = spec.variants[cls] {
                queries.append(
                    MetricsQuery(
                        key: ReleaseClassKey(hardwareClass: cls, artifactDigest: v.artifactDigest), sinceMs: progress.waveStartedAtMs,
                        isBaseline: false))
            }
            if let b = spec.baselines[cls] {
                queries.append(
                    MetricsQuery(key: ReleaseClassKey(hardwareClass: cls, artifactDigest: b.artifactDigest), sinceMs: nil, isBaseline: true)
                )
            }
        }
        return queries
    }

    // MARK: Shared helpers

    mutating func setStatus(_ status: RolloutStatus, now: Int64, _ out: inout [RolloutAction]) {
        guard status != state.status else { return }
        out.append(.statusChanged(from: state.status, to: status))
        out.append(.audit("rollout \(spec.rolloutID): \(state.status.rawValue) → \(status.rawValue)"))
        state.status = status
        if status.isTerminal { state.finishedAtMs = now }
    }

    private mutating func issue(_ actions: [RolloutAction]) -> [IssuedRolloutAction] {
        let issued = actions.map { action in
            defer { state.nextActionID += 1 }
            return IssuedRolloutAction(id: state.nextActionID, action: action)
        }
        state.outbox += issued
        return issued
    }

    /// One entry per device id (the last one given wins), in id order, so a step's actions do
    /// not depend on the order the caller listed devices in.
    static func uniqueDevices(_ devices: [RolloutDevice]) -> [RolloutDevice] {
        var byID: [String: RolloutDevice] = [:]
        for d in devices { byID[d.deviceID] = d }
        return byID.keys.sorted().compactMap { byID[$0] }
    }

    /// Every device assigned to `cls`, in id order.
    func assignedDevices(of cls: String) -> [(id: String, assignment: DeviceAssignment)] {
        state.assignments.filter { $0.value.hardwareClass == cls }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    var lastWave: Int { spec.waves.count - 1 }
}

extension RolloutEngine: Codable {
    private enum CodingKeys: String, CodingKey { case spec, state }

    /// A stored rollout is validated again: a spec edited in the database by hand cannot run.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let spec = try c.decode(RolloutSpec.self, forKey: .spec)
        do { try spec.validate() } catch {
            throw DecodingError.dataCorruptedError(forKey: .spec, in: c, debugDescription: error.description)
        }
        self.spec = spec
        self.state = try c.decode(RolloutState.self, forKey: .state)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(spec, forKey: .spec)
        try c.encode(state, forKey: .state)
    }
}
