import ModelIR

/// Faults an agent injects into its own model runs, for the fleet simulator and for tests:
/// a rollout can then be rehearsed against devices that are slow, whose kernels are broken, or
/// that crash on a new model, without such hardware. A real device runs with `.none` (the
/// default); nothing here is read from the agent's config file.
///
/// Each fault can be limited to releases: `releases` holds model versions or release sequences
/// (written as decimal text), and the fault applies only to a model whose manifest names one of
/// them ("v2 is broken on class X"). An empty set means every release.
public struct FaultInjection: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Measured latency multiplied by the factor (≥ 1): the agent sleeps the extra time after
        /// each run, so the validation p95 and the live telemetry both show it.
        case slow(factor: Double)
        /// The model's float outputs are perturbed deterministically (the same input gives the
        /// same wrong answer), so accuracy and agreement with the fp32 reference drop.
        case brokenKernels
        /// Loading a trial model fails as a crash would: each start of the trial is reported
        /// as an inference-worker crash until the crash-loop limit rolls it back.
        case crashOnLoad
        /// The agent dies once it has stored this fraction (0 < f ≤ 1) of a download's chunks
        /// (the bitmap checkpoint of the last chunk written): it stops dead as a killed process
        /// would (`AgentService.kill()`) and reports it on `injectedKills`, so whoever runs it
        /// can drop its connection and start a new agent on the same data directory. A
        /// download resumed from a checkpoint is not killed again.
        case killMidDownload(atFraction: Double)
    }

    public struct Fault: Sendable, Equatable {
        public var kind: Kind
        /// Model versions or release sequences this fault applies to; empty: all.
        public var releases: Set<String>

        public init(_ kind: Kind, releases: Set<String> = []) {
            self.kind = kind
            self.releases = releases
        }

        func applies(modelVersion: String, releaseSequence: UInt64) -> Bool {
            releases.isEmpty || releases.contains(modelVersion) || releases.contains(String(releaseSequence))
        }
    }

    public var faults: [Fault]

    public init(_ faults: [Fault] = []) { self.faults = faults }

    public static let none = FaultInjection()

    public var isEmpty: Bool { faults.isEmpty }

    public var description: String {
        guard !faults.isEmpty else { return "none" }
        return faults.map { f in
            let name: String
            switch f.kind {
            case .slow(let factor): name = "slow ×\(factor)"
            case .brokenKernels: name = "brokenKernels"
            case .crashOnLoad: name = "crashOnLoad"
            case .killMidDownload(let f): name = "killMidDownload at \(f)"
            }
            return f.releases.isEmpty ? name : "\(name) (releases \(f.releases.sorted().joined(separator: ",")))"
        }.joined(separator: ", ")
    }

    /// The product of the slow factors that apply to this release (1: not slowed).
    func latencyFactor(modelVersion: String, releaseSequence: UInt64) -> Double {
        var factor = 1.0
        for f in faults where f.applies(modelVersion: modelVersion, releaseSequence: releaseSequence) {
            if case .slow(let k) = f.kind { factor *= k }
        }
        return factor
    }

    func breaksKernels(modelVersion: String, releaseSequence: UInt64) -> Bool {
        faults.contains { $0.kind == .brokenKernels && $0.applies(modelVersion: modelVersion, releaseSequence: releaseSequence) }
    }

    func crashesOnLoad(modelVersion: String, releaseSequence: UInt64) -> Bool {
        faults.contains { $0.kind == .crashOnLoad && $0.applies(modelVersion: modelVersion, releaseSequence: releaseSequence) }
    }

    /// Whether a download of this release that has `stored` of `total` chunks must die now.
    func killsDownload(modelVersion: String, releaseSequence: UInt64, stored: Int, total: Int) -> Bool {
        faults.contains { f in
            guard case .killMidDownload(let fraction) = f.kind, f.applies(modelVersion: modelVersion, releaseSequence: releaseSequence)
            else { return false }
            return total > 0 && Double(stored) >= fraction * Double(total)
        }
    }

    func validate() throws(AgentError) {
        for f in faults {
            if case .slow(let k) = f.kind, !(k >= 1 && k <= 1000) {
                throw .invalidConfig(field: "faults", detail: "a slow factor must be in 1...1000, not \(k)")
            }
            if case .killMidDownload(let fraction) = f.kind, !(fraction > 0 && fraction <= 1) {
                throw .invalidConfig(field: "faults", detail: "killMidDownload's fraction of the chunks must be in (0, 1], not \(fraction)")
            }
        }
    }
}

/// The faults that apply to one loaded model, resolved once from its manifest.
struct ModelFaults: Sendable {
    var latencyFactor: Double = 1
    var brokenKernels = false

    static let none = ModelFaults()

    init() {}

    init(_ injection: FaultInjection, modelVersion: String, releaseSequence: UInt64) {
        latencyFactor = injection.latencyFactor(modelVersion: modelVersion, releaseSequence: releaseSequence)
        brokenKernels = injection.breaksKernels(modelVersion: modelVersion, releaseSequence: releaseSequence)
    }

    /// The extra time to wait after a run that took `elapsed`.
    func extraDelay(after elapsed: Duration) -> Duration? {
        guard latencyFactor > 1 else { return nil }
        return elapsed * (latencyFactor - 1)
    }

    /// Broken kernels: every float output value is moved by a pseudo-random amount as large as
    /// twice its row's range, derived from the value's bits and position, so the argmax is
    /// mostly wrong yet the same input always gives the same output.
    func perturb(_ outputs: [String: Tensor]) -> [String: Tensor] {
        guard brokenKernels else { return outputs }
        var result = outputs
        for (name, t) in outputs {
            guard t.elementType == .float32, let values = t.asDoubles, !values.isEmpty else { continue }
            if let out = try? Tensor(floats: Self.perturbed(values, shape: t.shape).map { Float($0) }, shape: t.shape) {
                result[name] = out
            }
        }
        return result
    }

    static func perturbed(_ values: [Double], shape: [Int]) -> [Double] {
        let width = max(shape.last ?? values.count, 1)
        var out = values
        var start = 0
        while start < values.count {
            let row = values[start..<min(values.count, start + width)]
            let range = max((row.max() ?? 0) - (row.min() ?? 0), 1e-3)
            for i in row.indices {
                var z = UInt64(bitPattern: Int64(i)) &* 0x9E37_79B9_7F4A_7C15 ^ Float(values[i]).bitPattern.hashSeed
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                let unit = Double(z >> 11) / Double(1 << 53) * 2 - 1
                out[i] = values[i] + 2 * range * unit
            }
            start += width
        }
        return out
    }
}

extension UInt32 {
    fileprivate var hashSeed: UInt64 { UInt64(self) &* 0xD6E8_FEB8_6659_FD93 }
}
