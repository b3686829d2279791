import FleetProtocol
import Foundation
import ModelArtifact

/// What the API shows: rollouts with their waves and gates, telemetry series, the audit log,
/// keys and `/metrics`.
extension CoordinatorService {
    func apiRollout(_ r: RolloutRecord) throws -> APIRollout {
        let engine = try decodeEngine(r)
        let spec = engine.spec
        let state = engine.state
        let devices = try targetDevices(spec.target)
        let progress = engine.progress(devices: devices)
        let waves = spec.waves.enumerated().map { i, fraction in
            let status: String =
                i < state.currentWave
                ? "passed" : i > state.currentWave ? "pending" : (state.status.isTerminal ? state.status.rawValue : "active")
            let classes = progress.rows.filter { $0.wave == i }.map { row in
                let gate =
                    state.gateHistory.last { $0.wave == i && $0.hardwareClass == row.hardwareClass && $0.verdict != .waiting }
                    ?? (i == state.currentWave ? state.classes[row.hardwareClass]?.latestGate : nil)
                return APIWaveClass(
                    hardwareClass: row.hardwareClass, targeted: row.targeted, updated: row.updated, failed: row.failed,
                    gatePassed: gate.flatMap { $0.verdict == .waiting ? nil : $0.verdict == .passed },
                    checks: gate?.checks.map(Self.apiCheck) ?? [])
            }
            return APIWave(
                index: i, fraction: fraction, status: status, startedAtMs: i == state.currentWave ? state.waveStartedAtMs : nil,
                soakEndsAtMs: i == state.currentWave ? state.soakStartedAtMs.map { $0 + spec.soakMs } : nil, classes: classes)
        }
        let since = state.startedAtMs ?? r.createdAtMs
        let now = Self.nowMs()
        let classes = try spec.variants.keys.sorted().map { c in
            let cp = state.classes[c]
            let release = try store.telemetryTotals(
                artifactDigest: spec.variants[c]?.artifactDigest ?? "", hardwareClass: c, sinceMs: since)
            let baseline = try spec.baselines[c].flatMap {
                try store.telemetryTotals(artifactDigest: $0.artifactDigest, hardwareClass: c, sinceMs: now - 86_400_000)
            }
            return APIRolloutClass(
                hardwareClass: c, status: cp?.status.rawValue ?? "pending", reason: cp?.stopReason,
                baselineVersion: spec.baselines[c]?.modelVersion, release: release.map(Self.apiMetrics),
                baseline: baseline.map(Self.apiMetrics))
        }
        let reason = state.classes.values.compactMap(\.stopReason).first
        return APIRollout(
            id: r.id, modelName: r.modelName, version: r.modelVersion, releaseSequence: Int(r.releaseSequence), target: spec.target,
            status: state.status.rawValue, statusReason: reason, createdBy: r.createdBy, createdAtMs: r.createdAtMs,
            updatedAtMs: r.updatedAtMs,
            currentWave: state.currentWave, soakSeconds: Double(spec.soakMs) / 1000,
            gate: APIGateOptions(
                minDevices: spec.gate.minDevicesReporting, minSuccessRate: spec.gate.minInstallSuccessRate,
                maxP95Ratio: spec.gate.maxLatencyP95Ratio, maxAccuracyDrop: spec.gate.maxAccuracyDrop,
                maxAgreementDrop: spec.gate.maxAgreementDrop, gateTimeoutSeconds: Double(spec.gate.gateTimeoutMs) / 1000,
                minLatencySamples: spec.gate.minLatencySamples),
            onFailure: spec.rollbackPolicy == .all ? .all : spec.rollbackPolicy == .none ? .none : .failingClass, waves: waves,
            classes: classes)
    }

    /// JSON has no NaN or infinity (encoding one fails the whole answer): a value that is not
    /// a finite number, or absent, is null.
    static func apiCheck(_ c: GateCheck) -> APIGateCheck {
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        return APIGateCheck(
            metric: c.metric.rawValue, measured: finite(c.measured), baseline: finite(c.baseline), threshold: finite(c.threshold),
            passed: c.passed, detail: c.detail)
    }

    static func apiMetrics(_ t: TelemetryAggregate) -> APIClassMetrics {
        let m = classMetrics(t)
        return APIClassMetrics(
            devices: m.devicesReporting, inferences: Int(clamping: m.inferences), errors: Int(clamping: m.errors),
            latencyP50Us: m.latencyP50Us.map { Double($0) }, latencyP95Us: m.latencyP95Us.map { Double($0) },
            latencyP99Us: m.latencyP99Us.map { Double($0) }, accuracy: m.meanAccuracy, agreement: m.meanAgreement)
    }

    // MARK: Observability

    public func telemetry(_ query: APITelemetryQuery, actor: String) async throws -> APITelemetryReport {
        let now = Self.nowMs()
        let since = query.sinceMs ?? (now - 3_600_000)
        var series: [APITelemetrySeries] = []
        for r in try store.releases(name: query.modelName) where query.version == nil || query.version == r.version {
            for v in try store.variants(name: r.name, version: r.version)
            where query.hardwareClass == nil || query.hardwareClass == v.hardwareClass {
                let buckets = try store.telemetryBuckets(artifactDigest: v.artifactDigest, hardwareClass: v.hardwareClass, sinceMs: since)
                guard !buckets.isEmpty,
                    let totals = try store.telemetryTotals(artifactDigest: v.artifactDigest, hardwareClass: v.hardwareClass, sinceMs: since)
                else { continue }
                series.append(
                    APITelemetrySeries(
                        modelName: r.name, version: r.version, hardwareClass: v.hardwareClass, artifactDigest: v.artifactDigest,
                        totals: Self.apiMetrics(totals),
                        buckets: buckets.map { APITelemetryBucket(startMs: $0.startMs, metrics: Self.apiMetrics($0)) }))
            }
        }
        return APITelemetryReport(generatedAtMs: now, bucketSeconds: config.telemetryBucketSeconds, series: series)
    }

    public func auditLog(_ query: APIAuditQuery, actor: String) async throws -> [APIAuditEntry] {
        try store.auditLog(limit: query.limit, sinceMs: query.sinceMs).map {
            APIAuditEntry(
                atMs: $0.atMs, actor: $0.actor, action: $0.action, target: $0.target, detail: $0.detailJSON == "{}" ? nil : $0.detailJSON)
        }
    }

    public func publicKeys(actor: String) async throws -> [APIPublicKey] {
        keyring.publicKeys.map {
            APIPublicKey(
                keyID: $0.keyID, publicKeyBase64: Data($0.rawRepresentation).base64EncodedString(), active: $0.keyID == keyring.activeKeyID)
        }
    }

    /// `/metrics`: fleet gauges, the service's counters, and per (release × class) telemetry
    /// of the last hour.
    public func prometheusMetrics(actor: String?) async throws -> String {
        let devices = try store.devices()
        var byClass: [String: (online: Int, total: Int)] = [:]
        for d in devices {
            byClass[d.hardwareClass, default: (0, 0)].total += 1
            if d.online { byClass[d.hardwareClass, default: (0, 0)].online += 1 }
        }
        var rows: [ReleaseClassTelemetry] = []
        let since = Self.nowMs() - 3_600_000
        for r in try store.releases(name: nil) {
            for v in try store.variants(name: r.name, version: r.version) {
                guard let t = try store.telemetryTotals(artifactDigest: v.artifactDigest, hardwareClass: v.hardwareClass, sinceMs: since)
                else { continue }
                rows.append(
                    ReleaseClassTelemetry(
                        modelName: r.name, modelVersion: r.version, hardwareClass: v.hardwareClass, artifactDigest: v.artifactDigest,
                        latency: t.latencyUs, metrics: Self.classMetrics(t)))
            }
        }
        var e = try PrometheusExposition.releaseTelemetry(rows)
        try e.addGauge(
            "flotilla_devices", help: "Devices known to the coordinator, by hardware class.",
            byClass.keys.sorted().map { .init(labels: ["class": $0], value: Double(byClass[$0]?.total ?? 0)) })
        try e.addGauge(
            "flotilla_devices_online", help: "Devices whose last status is online, by hardware class.",
            byClass.keys.sorted().map { .init(labels: ["class": $0], value: Double(byClass[$0]?.online ?? 0)) })
        try e.addCounter(
            "flotilla_coordinator_messages_total", help: "Device messages applied, by kind.",
            counters.messages.keys.sorted().map { .init(labels: ["kind": $0], value: Double(counters.messages[$0] ?? 0)) })
        let limited = ingestGate.droppedByKind
        var dropped = counters.dropped
        if !limited.isEmpty { dropped["rateLimited"] = limited.values.reduce(0, +) }
        try e.addCounter(
            "flotilla_coordinator_messages_dropped_total", help: "Device messages dropped, by reason.",
            dropped.keys.sorted().map { .init(labels: ["reason": $0], value: Double(dropped[$0] ?? 0)) })
        try e.addCounter(
            "flotilla_coordinator_messages_rate_limited_total",
            help: "Device messages dropped by the per-device rate limit (ingestMessagesPerSecond, ingestBurst), by topic kind.",
            limited.sorted { $0.key.rawValue < $1.key.rawValue }.map { .init(labels: ["kind": $0.key.rawValue], value: Double($0.value)) })
        try e.addGauge(
            "flotilla_coordinator_ingest_buckets", help: "Per-device rate-limit buckets held (bounded by IngestRateLimiter.maxTracked).",
            [.init(value: Double(ingestGate.trackedCount))])
        try e.addCounter(
            "flotilla_coordinator_desired_states_total", help: "Signed desired states published.",
            [.init(value: Double(counters.desiredPublished))])
        let c = await chunks.counters
        try e.addCounter(
            "flotilla_coordinator_chunk_bytes_total", help: "Artifact chunk bytes published (frames included).",
            [.init(value: Double(c.bytesPublished))])
        try e.addCounter(
            "flotilla_coordinator_chunk_frames_total", help: "Artifact chunk frames published.", [.init(value: Double(c.framesPublished))])
        let active = try store.activeRollouts(statuses: Self.activeStatuses)
        try e.addGauge("flotilla_rollouts_active", help: "Rollouts not yet finished.", [.init(value: Double(active.count))])
        return e.render()
    }
}
