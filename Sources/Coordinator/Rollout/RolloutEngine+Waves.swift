import FleetProtocol

extension RolloutEngine {
    /// How many of a class's `total` devices the waves up to one with cumulative `fraction`
    /// cover: rounded up (1% of 7 is 1), at least one in the first wave, all at 100%. The
    /// small slack keeps 0.1 × 30 (= 3.0000000000000004 in binary) at 3.
    public static func cumulativeCount(fraction: Double, of total: Int, isFirstWave: Bool) -> Int {
        guard total > 0 else { return 0 }
        guard fraction < 1 else { return total }
        let raw = (fraction * Double(total) - 1e-9).rounded(.up)
        let count = raw.isFinite ? Int(max(0, min(raw, Double(total)))) : total
        return min(total, max(count, isFirstWave ? 1 : 0))
    }

    /// FNV-1a (64-bit) of rolloutID, a NUL, and deviceID: stable across processes and
    /// releases (Swift's `Hasher` is seeded per process), and different per rollout so the same
    /// devices are not always the canaries.
    public static func stableHash(rolloutID: String, deviceID: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in rolloutID.utf8 {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        h = (h ^ 0) &* 0x0000_0100_0000_01b3
        for byte in deviceID.utf8 {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// Device ids in wave order for this rollout (hash, then id to break ties).
    func waveOrder(_ ids: [String]) -> [String] {
        ids.map { (Self.stableHash(rolloutID: spec.rolloutID, deviceID: $0), $0) }.sorted { $0 < $1 }.map(\.1)
    }

    /// Starts wave `k` for every class that is still active (or new).
    mutating func startWave(_ k: Int, now: Int64, devices: [RolloutDevice], _ out: inout [RolloutAction]) {
        state.currentWave = k
        state.waveStartedAtMs = now
        var pools: [String: [RolloutDevice]] = [:]
        for d in devices { pools[d.hardwareClass, default: []].append(d) }
        noteClassesWithoutVariant(pools, &out)
        var lines: [String] = []
        for cls in Set(pools.keys).union(state.classes.keys).sorted() where spec.variants[cls] != nil {
            if let p = state.classes[cls], p.status != .active { continue }
            let picked = startClassWave(cls, pool: pools[cls] ?? [], now: now, &out)
            let total = assignedDevices(of: cls).count
            lines.append("\(cls) +\(picked) (\(total) of \(pools[cls]?.count ?? 0))")
        }
        let percent = GateComparison.format(spec.waves[k] * 100)
        out.append(
            .audit(
                "rollout \(spec.rolloutID): wave \(k + 1) of \(spec.waves.count) (\(percent)%) started"
                    + (lines.isEmpty ? "; no device matches the target yet" : ": " + lines.joined(separator: ", "))))
    }

    /// Opens the current wave for one class: picks its unassigned devices up to the wave's
    /// cumulative count, leaves the rest waiting, issues their desired states and the chunk
    /// publication. Returns how many devices it took.
    @discardableResult
    mutating func startClassWave(_ cls: String, pool: [RolloutDevice], now: Int64, _ out: inout [RolloutAction]) -> Int {
        let k = state.currentWave
        var progress =
            state.classes[cls] ?? ClassProgress(waveStartedAtMs: now, gateDeadlineMs: now + spec.gate.gateTimeoutMs)
        progress.waveStartedAtMs = now
        progress.soakStartedAtMs = nil
        progress.gateDeadlineMs = now + spec.gate.gateTimeoutMs
        progress.latestGate = nil
        state.classes[cls] = progress
        let alreadyAssigned = pool.filter { state.assignments[$0.deviceID] != nil }.count
        let unassigned = waveOrder(pool.filter { state.assignments[$0.deviceID] == nil }.map(\.deviceID))
        let target = Self.cumulativeCount(fraction: spec.waves[k], of: pool.count, isFirstWave: k == 0 || alreadyAssigned == 0)
        let take = max(0, target - alreadyAssigned)
        for id in unassigned.prefix(take) { assign(id, cls: cls, late: false, now: now, &out) }
        for id in unassigned.dropFirst(take) { state.waiting[id] = cls }
        if take > 0 { publishChunksOnce(cls, &out) }
        return min(take, unassigned.count)
    }

    /// Devices that appeared since the current wave started: into the current wave of their
    /// class, or, for a class seen for the first time, through the wave's selection (so a
    /// class whose devices all show up at once still starts with a canary share).
    mutating func joinNewDevices(now: Int64, devices: [RolloutDevice], _ out: inout [RolloutAction]) {
        let new = devices.filter { state.assignments[$0.deviceID] == nil && state.waiting[$0.deviceID] == nil }
        guard !new.isEmpty else { return }
        var pools: [String: [RolloutDevice]] = [:]
        for d in new { pools[d.hardwareClass, default: []].append(d) }
        noteClassesWithoutVariant(pools, &out)
        for (cls, arrivals) in pools.sorted(by: { $0.key < $1.key }) where spec.variants[cls] != nil {
            guard let progress = state.classes[cls] else {
                let picked = startClassWave(cls, pool: devices.filter { $0.hardwareClass == cls }, now: now, &out)
                out.append(
                    .audit(
                        "rollout \(spec.rolloutID): class \(cls) appeared in wave \(state.currentWave + 1) with "
                            + "\(arrivals.count) devices; \(picked) take part in this wave"))
                continue
            }
            guard progress.status == .active else { continue }
            for d in arrivals {
                assign(d.deviceID, cls: cls, late: true, now: now, &out)
                out.append(.audit("rollout \(spec.rolloutID): device \(d.deviceID) (\(cls)) joined wave \(state.currentWave + 1)"))
            }
            publishChunksOnce(cls, &out)
        }
    }

    /// Starts the next wave, or completes the rollout, once every active class passed.
    mutating func advanceIfPassed(now: Int64, devices: [RolloutDevice], _ out: inout [RolloutAction]) {
        let active = state.classes.filter { $0.value.status == .active }
        guard !active.isEmpty, active.values.allSatisfy({ $0.passedWave == state.currentWave }) else { return }
        guard state.currentWave < lastWave else {
            for cls in active.keys { state.classes[cls]?.status = .done }
            let allDone = state.classes.values.allSatisfy { $0.status == .done }
            setStatus(allDone ? .completed : .completedWithHaltedClasses, now: now, &out)
            return
        }
        startWave(state.currentWave + 1, now: now, devices: devices, &out)
    }

    private mutating func assign(_ id: String, cls: String, late: Bool, now: Int64, _ out: inout [RolloutAction]) {
        guard let variant = spec.variants[cls] else { return }
        state.waiting[id] = nil
        state.assignments[id] = DeviceAssignment(hardwareClass: cls, wave: state.currentWave, joinedLate: late, desiredIssuedAtMs: now)
        out.append(.setDesired(deviceID: id, artifact: variant, trial: spec.trial, rolloutID: spec.rolloutID))
    }

    private mutating func publishChunksOnce(_ cls: String, _ out: inout [RolloutAction]) {
        guard let variant = spec.variants[cls], var progress = state.classes[cls],
            !progress.chunksPublishedWaves.contains(state.currentWave)
        else { return }
        progress.chunksPublishedWaves.append(state.currentWave)
        state.classes[cls] = progress
        out.append(.publishChunks(hardwareClass: cls, artifactDigest: variant.artifactDigest, wave: state.currentWave))
    }

    private mutating func noteClassesWithoutVariant(_ pools: [String: [RolloutDevice]], _ out: inout [RolloutAction]) {
        for (cls, pool) in pools.sorted(by: { $0.key < $1.key })
        where spec.variants[cls] == nil && !state.classesWithoutVariant.contains(cls) {
            state.classesWithoutVariant.append(cls)
            out.append(
                .audit(
                    "rollout \(spec.rolloutID): \(pool.count) matching devices of class \(cls) are left alone: "
                        + "the release has no variant for that class (build one and start another rollout)"))
        }
    }
}
