import Coordinator

/// Deterministic API answers shared by the HTTP, renderer and dashboard tests: a fleet of two
/// classes, release digits 2.0 with two variants, and its rollout in wave 2 with the ARM class
/// halted by its p95 gate.
enum APIFixtures {
    static let t0: Int64 = 1_770_000_000_000

    static let devices: [APIDevice] = (0..<6).map { i in
        let cls = i < 4 ? "x86-avx2" : "arm64-dot"
        let version = i % 2 == 0 ? "2.0" : "1.0"
        return APIDevice(
            id: "dev-\(i)", hardwareClass: cls, agentVersion: "0.1.0", labels: ["site": i < 3 ? "berlin" : "lyon"], online: i != 5,
            running: APIRunningModel(
                modelName: "digits", modelVersion: version, releaseSequence: version == "2.0" ? 2 : 1, artifactDigest: "d\(i)", slot: "a",
                status: version == "2.0" ? "trial" : "committed"), phase: "idle", lastSeenMs: t0 + Int64(i) * 1000, firstSeenMs: t0)
    }

    static let release = APIRelease(
        name: "digits", version: "2.0", releaseSequence: 2, status: .ready, createdBy: "alice", createdAtMs: t0,
        sourceSHA256: String(repeating: "ab", count: 32), budget: 0.5, minAgreement: 0.98, classes: ["arm64-dot", "x86-avx2"],
        variants: [
            APIVariant(
                hardwareClass: "arm64-dot", status: .ready, artifactDigest: String(repeating: "1", count: 64), uncompressedSize: 48_213,
                compressedSize: 39_004, metrics: ["fp32Accuracy": 0.9722, "int8Accuracy": 0.9694, "agreement": 0.9917],
                report: "calibrator minmax, per-channel s8; top-1 97.22% → 96.94%"),
            APIVariant(
                hardwareClass: "x86-avx2", status: .ready, artifactDigest: String(repeating: "2", count: 64), uncompressedSize: 48_877,
                compressedSize: 40_112, metrics: ["fp32Accuracy": 0.9722, "int8Accuracy": 0.9667, "agreement": 0.9889],
                report: "calibrator percentile, reduce-range u8; top-1 97.22% → 96.67%"),
        ])

    static let rollout = APIRollout(
        id: "r-7", modelName: "digits", version: "2.0", releaseSequence: 2, target: "site in (berlin,lyon)", status: "running",
        statusReason: "arm64-dot halted at wave 1: p95 latency 1.45× baseline", createdBy: "alice", createdAtMs: t0,
        updatedAtMs: t0 + 60_000,
        currentWave: 1, soakSeconds: 600,
        gate: APIGateOptions(minDevices: 1, minSuccessRate: 0.95, maxP95Ratio: 1.2, maxAccuracyDrop: 0.02),
        onFailure: .failingClass,
        waves: [
            APIWave(
                index: 0, fraction: 0.01, status: "passed", startedAtMs: t0,
                classes: [
                    APIWaveClass(
                        hardwareClass: "x86-avx2", targeted: 1, updated: 1, failed: 0, gatePassed: true,
                        checks: [
                            APIGateCheck(metric: "latencyP95Us", measured: 812, baseline: 790, threshold: 948, passed: true),
                            APIGateCheck(metric: "accuracy", measured: 0.967, baseline: 0.969, threshold: 0.949, passed: true),
                        ]),
                    APIWaveClass(
                        hardwareClass: "arm64-dot", targeted: 1, updated: 1, failed: 0, gatePassed: false,
                        checks: [
                            APIGateCheck(
                                metric: "latencyP95Us", measured: 2030, baseline: 1400, threshold: 1680, passed: false,
                                detail: "1.45× baseline, allowed 1.2×"),
                            APIGateCheck(metric: "accuracy", measured: 0.968, baseline: 0.969, threshold: 0.949, passed: true),
                        ]),
                ]),
            APIWave(
                index: 1, fraction: 0.1, status: "deploying", startedAtMs: t0 + 600_000,
                classes: [APIWaveClass(hardwareClass: "x86-avx2", targeted: 10, updated: 4, failed: 1)]),
            APIWave(
                index: 2, fraction: 0.5, status: "pending",
                classes: [APIWaveClass(hardwareClass: "x86-avx2", targeted: 50, updated: 0, failed: 0)]),
            APIWave(
                index: 3, fraction: 1, status: "pending",
                classes: [APIWaveClass(hardwareClass: "x86-avx2", targeted: 100, updated: 0, failed: 0)]),
        ],
        classes: [
            APIRolloutClass(
                hardwareClass: "x86-avx2", status: "active", baselineVersion: "1.0",
                release: APIClassMetrics(devices: 5, inferences: 12_000, errors: 0, latencyP95Us: 812, accuracy: 0.967, agreement: 0.989),
                baseline: APIClassMetrics(devices: 95, inferences: 400_000, errors: 2, latencyP95Us: 790, accuracy: 0.969, agreement: 0.991)
            ),
            APIRolloutClass(
                hardwareClass: "arm64-dot", status: "rolledBack", reason: "p95 latency 2030 µs > 1680 µs", baselineVersion: "1.0",
                release: APIClassMetrics(devices: 1, inferences: 900, errors: 0, latencyP95Us: 2030, accuracy: 0.968),
                baseline: APIClassMetrics(devices: 40, inferences: 90_000, errors: 0, latencyP95Us: 1400, accuracy: 0.969)),
        ])

    static let plan = APIRolloutPlan(
        modelName: "digits", version: "2.0", target: "site=berlin",
        waves: [
            APIPlannedWave(
                index: 0, fraction: 0.5,
                classes: [
                    APIPlannedClass(hardwareClass: "x86-avx2", deviceIDs: ["dev-0", "dev-1"]),
                    APIPlannedClass(hardwareClass: "arm64-dot", deviceIDs: ["dev-4"]),
                ]),
            APIPlannedWave(index: 1, fraction: 1, classes: [APIPlannedClass(hardwareClass: "x86-avx2", deviceIDs: ["dev-2"])]),
        ])

    /// Two classes × two releases × 8 one-minute buckets.
    static let telemetry: APITelemetryReport = {
        var series: [APITelemetrySeries] = []
        for (ci, cls) in ["x86-avx2", "arm64-dot"].enumerated() {
            for (vi, version) in ["1.0", "2.0"].enumerated() {
                let base = Double(800 + 600 * ci) * (vi == 1 && ci == 1 ? 1.45 : 1.0)
                var buckets: [APITelemetryBucket] = []
                for b in 0..<8 {
                    let p95: Double = base + Double(b * 7 % 5) * 10
                    let accuracy: Double = 0.969 - Double(vi) * 0.002 + Double(b % 3) * 0.001
                    let metrics = APIClassMetrics(
                        devices: 3, inferences: 1000 + b * 10, errors: 0, latencyP50Us: base * 0.7, latencyP95Us: p95,
                        latencyP99Us: base * 1.3, accuracy: accuracy, agreement: 0.99)
                    buckets.append(APITelemetryBucket(startMs: t0 + Int64(b) * 60_000, metrics: metrics))
                }
                series.append(
                    APITelemetrySeries(
                        modelName: "digits", version: version, hardwareClass: cls, artifactDigest: "\(cls)-\(version)",
                        totals: APIClassMetrics(
                            devices: 3, inferences: 8280, errors: 0, latencyP50Us: base * 0.7, latencyP95Us: base, latencyP99Us: base * 1.3,
                            accuracy: 0.968, agreement: 0.99),
                        buckets: buckets))
            }
        }
        return APITelemetryReport(generatedAtMs: t0 + 480_000, bucketSeconds: 60, series: series)
    }()
}
