/// The dry run of a rollout: which devices each wave would reach, per class, if the devices
/// matching the target now were all there is (devices that appear later join the wave that is
/// running when they do).
public struct RolloutPlan: Codable, Sendable, Equatable {
    public struct Wave: Codable, Sendable, Equatable {
        public var index: Int
        /// The cumulative fraction of each class this wave brings the rollout to.
        public var fraction: Double
        /// class → the devices this wave adds, in wave order.
        public var devices: [String: [String]]
        /// class → how many devices the waves up to this one cover.
        public var cumulative: [String: Int]
    }

    public var rolloutID: String
    public var waves: [Wave]
    /// class → matching devices the release has no variant for (they are left alone).
    public var classesWithoutVariant: [String: [String]]

    /// Text for `flotilla rollout start --dry-run`: one line per wave and class.
    public var text: String {
        var lines: [String] = []
        for w in waves {
            lines.append("wave \(w.index + 1) (\(GateComparison.format(w.fraction * 100))%):")
            for (cls, ids) in w.devices.sorted(by: { $0.key < $1.key }) {
                let shown = ids.isEmpty ? "-" : ids.joined(separator: " ")
                lines.append("  \(cls) +\(ids.count) (\(w.cumulative[cls] ?? 0) in all): \(shown)")
            }
        }
        for (cls, ids) in classesWithoutVariant.sorted(by: { $0.key < $1.key }) {
            lines.append("no variant for \(cls): \(ids.count) devices left alone")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension RolloutEngine {
    /// The dry run: validates the spec and splits `devices` into waves exactly as a rollout
    /// started now would (same stable order, same rounding).
    public static func plan(spec: RolloutSpec, devices: [RolloutDevice]) throws(RolloutSpecError) -> RolloutPlan {
        let engine = try RolloutEngine(spec: spec)
        var pools: [String: [String]] = [:]
        for d in uniqueDevices(devices) { pools[d.hardwareClass, default: []].append(d.deviceID) }
        var without: [String: [String]] = [:]
        var ordered: [String: [String]] = [:]
        for (cls, ids) in pools {
            if spec.variants[cls] == nil { without[cls] = ids.sorted() } else { ordered[cls] = engine.waveOrder(ids) }
        }
        var waves: [RolloutPlan.Wave] = []
        var covered: [String: Int] = [:]
        for (k, fraction) in spec.waves.enumerated() {
            var wave = RolloutPlan.Wave(index: k, fraction: fraction, devices: [:], cumulative: [:])
            for (cls, ids) in ordered {
                let upTo = cumulativeCount(fraction: fraction, of: ids.count, isFirstWave: k == 0)
                let from = covered[cls] ?? 0
                wave.devices[cls] = Array(ids[min(from, upTo)..<upTo])
                wave.cumulative[cls] = max(from, upTo)
                covered[cls] = max(from, upTo)
            }
            waves.append(wave)
        }
        return RolloutPlan(rolloutID: spec.rolloutID, waves: waves, classesWithoutVariant: without)
    }
}
