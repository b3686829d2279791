import FleetProtocol

/// A rollout spec that cannot run: every problem found, each naming the field, what is wrong
/// and what to write instead.
public struct RolloutSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var rolloutID: String
    public var problems: [String]

    public init(rolloutID: String, problems: [String]) {
        self.rolloutID = rolloutID
        self.problems = problems
    }

    public var description: String {
        "rollout '\(rolloutID)' cannot start: " + problems.joined(separator: "; ")
    }
}

extension RolloutSpec {
    /// Throws every problem at once (an operator fixes a command line in one go).
    public func validate() throws(RolloutSpecError) {
        var problems: [String] = []
        do { try TopicID.validate(rolloutID, as: "rolloutID") } catch { problems.append(error.description) }
        if modelName.isEmpty { problems.append("modelName is empty; name the model to roll out") }
        if version.isEmpty { problems.append("version is empty; name the model version to roll out") }
        problems += wavesProblems()
        if soakMs < 0 { problems.append("soakMs is \(soakMs); use 0 or more milliseconds") }
        problems += variantProblems()
        problems += gate.problems(soakMs: soakMs)
        if trial.shadowSeconds < 0 || trial.watchSeconds < 0 {
            problems.append(
                "trial shadowSeconds \(trial.shadowSeconds) / watchSeconds \(trial.watchSeconds) must not be negative")
        }
        guard problems.isEmpty else { throw RolloutSpecError(rolloutID: rolloutID, problems: problems) }
    }

    private func wavesProblems() -> [String] {
        let text = "[" + waves.map { "\($0)" }.joined(separator: ", ") + "]"
        guard let last = waves.last else {
            return ["waves is empty; give cumulative fractions ending at 1, e.g. [0.01, 0.1, 0.5, 1.0]"]
        }
        var problems: [String] = []
        for (i, f) in waves.enumerated() where !(f > 0 && f <= 1) {
            problems.append("waves[\(i)] = \(f) is outside (0, 1]; waves are cumulative fractions of each class's devices")
        }
        for i in waves.indices.dropFirst() where !(waves[i] > waves[i - 1]) {
            problems.append("waves \(text) must increase strictly (wave \(i) is \(waves[i]) after \(waves[i - 1]))")
        }
        if last != 1 { problems.append("the last wave is \(last); it must be 1 (100%) so every device is reached") }
        if waves.count > 100 { problems.append("\(waves.count) waves; use at most 100") }
        return problems
    }

    private func variantProblems() -> [String] {
        var problems: [String] = []
        if variants.isEmpty { problems.append("no variants; build the release for at least one hardware class") }
        for (cls, v) in variants.sorted(by: { $0.key < $1.key }) {
            let name = "variants['\(cls)']"
            do { try TopicID.validate(cls, as: "\(name) hardware class") } catch { problems.append(error.description) }
            if v.hardwareClass != cls { problems.append("\(name) is built for class '\(v.hardwareClass)'") }
            if v.releaseSequence != releaseSequence {
                problems.append("\(name) has releaseSequence \(v.releaseSequence), the rollout \(releaseSequence)")
            }
            if v.modelName != modelName || v.modelVersion != version {
                problems.append("\(name) is \(v.modelName) \(v.modelVersion), the rollout \(modelName) \(version)")
            }
            if !Self.isDigest(v.artifactDigest) {
                problems.append("\(name) artifactDigest '\(v.artifactDigest)' is not 64 lower-case hex digits")
            }
            if (try? v.chunkPlan) == nil { problems.append("\(name) has an invalid chunk plan (sizes or chunkSize)") }
        }
        for (cls, b) in baselines.sorted(by: { $0.key < $1.key }) {
            let name = "baselines['\(cls)']"
            if b.hardwareClass != cls { problems.append("\(name) is built for class '\(b.hardwareClass)'") }
            if b.releaseSequence >= releaseSequence {
                problems.append(
                    "\(name) has releaseSequence \(b.releaseSequence), not below the rollout's \(releaseSequence); "
                        + "a baseline is an earlier release")
            }
            if !Self.isDigest(b.artifactDigest) {
                problems.append("\(name) artifactDigest '\(b.artifactDigest)' is not 64 lower-case hex digits")
            }
            if let v = variants[cls], v.artifactDigest == b.artifactDigest {
                problems.append("\(name) is the same artifact as the new variant (\(b.artifactDigest.prefix(12))…)")
            }
        }
        return problems
    }

    static func isDigest(_ text: String) -> Bool { (try? TopicID.validateDigest(text)) != nil }
}

extension GatePolicy {
    func problems(soakMs: Int64) -> [String] {
        var problems: [String] = []
        func fraction(_ name: String, _ value: Double) {
            if !(value >= 0 && value <= 1) { problems.append("gate.\(name) = \(value) must be within 0...1") }
        }
        if minLatencySamples < 0 {
            problems.append("gate.minLatencySamples = \(minLatencySamples); use 0 or more (0: judge p95 from any sample)")
        }
        if minDevicesReporting < 1 { problems.append("gate.minDevicesReporting = \(minDevicesReporting); use 1 or more") }
        fraction("minInstallSuccessRate", minInstallSuccessRate)
        fraction("maxAccuracyDrop", maxAccuracyDrop)
        fraction("maxAgreementDrop", maxAgreementDrop)
        if let v = minAccuracy { fraction("minAccuracy", v) }
        if let v = minAgreement { fraction("minAgreement", v) }
        if let v = maxErrorRate { fraction("maxErrorRate", v) }
        if !(maxLatencyP95Ratio > 0 && maxLatencyP95Ratio.isFinite) {
            problems.append("gate.maxLatencyP95Ratio = \(maxLatencyP95Ratio); use a positive ratio such as 1.2 (20% slower at most)")
        }
        if let v = maxLatencyP95Us, !(v > 0 && v.isFinite) {
            problems.append("gate.maxLatencyP95Us = \(v); use a positive number of microseconds")
        }
        if gateTimeoutMs <= soakMs {
            problems.append(
                "gate.gateTimeoutMs = \(gateTimeoutMs) is not longer than the soak (\(soakMs) ms); "
                    + "the gate could never be judged before it times out")
        }
        return problems
    }
}
