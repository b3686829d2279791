import Coordinator
import FleetProtocol

/// Deterministic fixtures for the rollout engine tests: digests, descriptors, a spec over two
/// classes, and a pure fleet model that applies the engine's actions the way agents would.
enum RolloutFixture {
    static let classA = "x86-avx2"
    static let classB = "arm-dot"
    static let newRelease: UInt64 = 7
    static let oldRelease: UInt64 = 6

    static func digest(_ seed: UInt64) -> String {
        let part = String(seed &* 0x9E37_79B9_7F4A_7C15, radix: 16)
        let padded = String(repeating: "0", count: 16 - part.count) + part
        return String(repeating: padded, count: 4)
    }

    static func descriptor(_ cls: String, release: UInt64, seed: UInt64) -> ArtifactDescriptor {
        ArtifactDescriptor(
            modelName: "keyword-spotter", modelVersion: release == newRelease ? "2.0" : "1.0", releaseSequence: release,
            hardwareClass: cls,
            transport: TransportDigests(
                uncompressedSize: 4_000_000, uncompressedSHA256: digest(seed), compressedSize: 3_000_000,
                compressedSHA256: digest(seed + 1000)))
    }

    static let variants = [
        classA: descriptor(classA, release: newRelease, seed: 1), classB: descriptor(classB, release: newRelease, seed: 2),
    ]
    static let baselines = [
        classA: descriptor(classA, release: oldRelease, seed: 3), classB: descriptor(classB, release: oldRelease, seed: 4),
    ]

    static func spec(
        id: String = "ro-1", waves: [Double] = [0.01, 0.1, 0.5, 1.0], policy: RollbackPolicy = .failingClass,
        gate: GatePolicy = GatePolicy(minDevicesReporting: 1, gateTimeoutMs: 600_000), baselines: [String: ArtifactDescriptor]? = nil
    ) -> RolloutSpec {
        RolloutSpec(
            rolloutID: id, modelName: "keyword-spotter", version: "2.0", releaseSequence: newRelease, target: "site=lab",
            waves: waves, soakMs: 60_000, variants: variants, baselines: baselines ?? Self.baselines, gate: gate,
            rollbackPolicy: policy, trial: TrialPolicy(shadowSeconds: 0, watchSeconds: 300))
    }
}

/// A fleet whose agents install instantly when online, with per-class behaviour of the new
/// release (its p95 latency and accuracy), and optional devices that roll the release back.
struct FakeFleet {
    var devices: [String: RolloutDevice] = [:]
    var newP95: [String: UInt64] = [:]
    var newAccuracy: [String: Double] = [:]
    var baselineP95: UInt64 = 1000
    var baselineAccuracy = 0.90
    /// Devices that roll the new release back by themselves right after installing it.
    var rejecting: Set<String> = []
    /// Devices that install but never send telemetry.
    var silent: Set<String> = []
    /// Inferences (latency samples) each reporting device of a class contributes (default 100).
    var inferencesPerReporter: [String: UInt64] = [:]
    var received: [String: [RolloutAction]] = [:]

    init(countA: Int, countB: Int) {
        for i in 0..<countA { add("a-\(i)", RolloutFixture.classA) }
        for i in 0..<countB { add("b-\(i)", RolloutFixture.classB) }
    }

    mutating func add(_ id: String, _ cls: String, online: Bool = true) {
        let base = RolloutFixture.baselines[cls]
        devices[id] = RolloutDevice(
            deviceID: id, hardwareClass: cls, online: online,
            running: base.map {
                RunningModel(
                    modelName: $0.modelName, modelVersion: $0.modelVersion, releaseSequence: $0.releaseSequence,
                    artifactDigest: $0.artifactDigest, slot: .a, status: .committed)
            }, phase: "idle")
    }

    func running(_ id: String) -> String? { devices[id]?.running?.artifactDigest }

    mutating func apply(_ actions: [IssuedRolloutAction], now: Int64) {
        for issued in actions {
            switch issued.action {
            case .setDesired(let id, let artifact, _, _):
                received[id, default: []].append(issued.action)
                install(id, artifact, now: now)
            case .rollBack(let id, let artifact, _, _):
                received[id, default: []].append(issued.action)
                install(id, artifact, now: now)
            case .clearDesired(let id, _, _):
                received[id, default: []].append(issued.action)
            default:
                break
            }
        }
    }

    mutating func install(_ id: String, _ artifact: ArtifactDescriptor, now: Int64) {
        guard var d = devices[id], d.online else { return }
        if rejecting.contains(id) && artifact.releaseSequence == RolloutFixture.newRelease {
            d.lastRollback = RollbackRecord(
                releaseSequence: artifact.releaseSequence, artifactDigest: artifact.artifactDigest,
                reason: FailureReason(code: .validationFailed, detail: "accuracy", metric: "accuracy", measured: 0.5, threshold: 0.8),
                atMs: now)
        } else {
            d.running = RunningModel(
                modelName: artifact.modelName, modelVersion: artifact.modelVersion, releaseSequence: artifact.releaseSequence,
                artifactDigest: artifact.artifactDigest, slot: .b, status: .committed)
        }
        devices[id] = d
    }

    /// Reconnect: a device that was offline gets its retained desired state (the last one).
    mutating func setOnline(_ id: String, now: Int64) {
        devices[id]?.online = true
        guard let last = received[id]?.last else { return }
        switch last {
        case .setDesired(_, let a, _, _), .rollBack(_, let a, _, _): install(id, a, now: now)
        default: break
        }
    }

    func input(now: Int64, queries: [MetricsQuery], commands: [RolloutCommand] = []) -> RolloutInput {
        var metrics: [ReleaseClassKey: ClassMetrics] = [:]
        for q in queries {
            let cls = q.key.hardwareClass
            if q.isBaseline {
                metrics[q.key] = ClassMetrics(
                    devicesReporting: 5, inferences: 10_000, errors: 0, latencyP95Us: baselineP95, meanAccuracy: baselineAccuracy,
                    meanAgreement: 0.97)
            } else {
                let reporters = devices.values.filter {
                    $0.hardwareClass == cls && $0.running?.artifactDigest == q.key.artifactDigest && !silent.contains($0.deviceID)
                }.count
                guard reporters > 0 else { continue }
                metrics[q.key] = ClassMetrics(
                    devicesReporting: reporters, inferences: UInt64(reporters) * (inferencesPerReporter[cls] ?? 100), errors: 0,
                    latencyP95Us: newP95[cls] ?? 950,
                    meanAccuracy: newAccuracy[cls] ?? 0.905, meanAgreement: 0.97)
            }
        }
        return RolloutInput(nowMs: now, devices: Array(devices.values), metrics: metrics, commands: commands)
    }
}

/// Drives an engine against a fake fleet, acknowledging every action as done.
struct RolloutHarness {
    var engine: RolloutEngine
    var fleet: FakeFleet
    var now: Int64 = 1_000_000
    var log: [RolloutAction] = []

    @discardableResult
    mutating func step(commands: [RolloutCommand] = [], advance: Int64 = 10_000) -> [RolloutAction] {
        now += advance
        let issued = engine.step(fleet.input(now: now, queries: engine.metricsQueries, commands: commands))
        fleet.apply(issued, now: now)
        if let last = issued.last { engine.acknowledge(through: last.id) }
        let actions = issued.map(\.action)
        log += actions
        return actions
    }

    /// Steps until the rollout is terminal (or `limit` steps).
    mutating func runToEnd(limit: Int = 500) {
        for _ in 0..<limit where !engine.state.status.isTerminal { step() }
    }

    func desiredTargets() -> [String] {
        log.compactMap { if case .setDesired(let id, _, _, _) = $0 { id } else { nil } }
    }

    func rollbacks() -> [String] {
        log.compactMap { if case .rollBack(let id, _, _, _) = $0 { id } else { nil } }
    }
}
