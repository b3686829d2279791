import Coordinator
import FleetMQTT
import FleetProtocol
import Foundation

/// The coordinator side of the rollout benchmark: `CoordinatorService` on a `SQLiteStore` in
/// this process. Registers the release, waits for the fleet (the `rollout-fleet` process),
/// starts a one-wave rollout with no soak and times it until the store holds every device's
/// report of the release committed. Where the time went comes from the devices' own events.
struct RolloutCoordinator {
    static let hardwareClass = "x86_64-avx2"
    let options: Options
    let deadline: ContinuousClock.Instant

    func run() async throws {
        let work = URL(fileURLWithPath: options.work)
        let data = work.appendingPathComponent("coordinator")
        let rssStart = rssKiB()
        let config = try CoordinatorConfig(
            dataDirectory: data, broker: BrokerConfig(host: "127.0.0.1", port: options.port), clientID: "fleet-bench-coordinator",
            httpPort: 0, apiTokens: ["bench": "fleet-bench-token-0123456789"], chunkSize: 256 << 10, telemetryBucketSeconds: 60,
            hardwareClassDirectory: work, tickSeconds: 0.2)
        let store = try SQLiteStore(dataDirectory: data)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.clientID)
        try await transport.connect()
        let service = try CoordinatorService(config: config, store: store, transport: transport)
        try await service.start()
        let release = try BenchRelease.register(
            store: store, dataDirectory: data, hardwareClass: Self.hardwareClass, version: "1",
            targetCompressedBytes: options.artifactBytes, chunkSize: config.chunkSize)
        note("release registered: \(release.compressedSize) bytes compressed, \(release.uncompressedSize) uncompressed")
        try writeFile(work.appendingPathComponent("pub.pem").path, try SigningKeyring.open(dataDirectory: data).publicKeysPEM())

        // The fleet registers by its state reports.
        var online = 0
        while online < options.devices {
            guard ContinuousClock.now < deadline else { throw BenchError("only \(online) of \(options.devices) devices registered online") }
            try await Task.sleep(for: .milliseconds(250))
            online = try store.devices().filter(\.online).count
        }
        note("\(online) devices registered; starting the rollout")
        try await Task.sleep(for: .seconds(2))
        let rssIdle = rssKiB()

        let request = APIRolloutRequest(
            modelName: BenchRelease.model, version: release.version, target: "", waves: [1], soakSeconds: 0,
            gate: APIGateOptions(minDevices: 1, minSuccessRate: 0, gateTimeoutSeconds: 3600))
        let cpuStart = cpuMs()
        let startMs = nowMs()
        let start = ContinuousClock.now
        let rollout = try await service.startRollout(request, actor: "fleet-bench")
        var committed = 0
        var phases: [String: Int] = [:]
        while committed < options.devices {
            guard ContinuousClock.now < deadline else {
                throw BenchError("rollout \(rollout.id): \(committed) of \(options.devices) committed at the deadline; phases \(phases)")
            }
            try await Task.sleep(for: .milliseconds(50))
            let devices = try store.devices()
            committed = devices.filter { $0.running?.artifactDigest == release.digest && $0.running?.status == .committed }.count
            phases = Dictionary(devices.map { ($0.phase ?? "-", 1) }, uniquingKeysWith: +)
        }
        let elapsed = ContinuousClock.now - start
        let cpu = cpuMs() - cpuStart
        let rssDone = rssKiB()
        note("every device committed after \(Int(elapsed.ms)) ms")
        try writeFile(work.appendingPathComponent("done").path, "\(elapsed.ms)\n")

        // Late events (sent just before the last state report) reach the store shortly after.
        try await Task.sleep(for: .seconds(2))
        let events = try store.events(deviceID: nil, sinceMs: startMs - 1, limit: 50 * options.devices)
        let status = try await service.rollout(id: rollout.id, actor: "fleet-bench").status
        // How many chunk frames the coordinator published: one pass of the artifact is
        // ⌈size / chunk⌉; more means late joiners and re-requests were served again.
        let metrics = try await service.prometheusMetrics(actor: "fleet-bench")
        let frames =
            metrics.split(separator: "\n").first { $0.hasPrefix("flotilla_coordinator_chunk_frames_total ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
        await service.stop()
        await transport.disconnect()
        try emit([
            "mode": "rollout", "devices": options.devices, "committed": committed, "time_ms": elapsed.ms,
            "compressed_bytes": release.compressedSize, "uncompressed_bytes": release.uncompressedSize, "chunk_bytes": config.chunkSize,
            "coordinator_cpu_ms": cpu, "coordinator_rss_start_kib": rssStart, "coordinator_rss_idle_kib": rssIdle,
            "coordinator_rss_done_kib": rssDone, "rollout_status": status, "chunk_frames_published": frames,
            "phases": Self.eventOffsets(events, startMs: startMs),
        ])
    }

    /// For each event kind, from the rollout's start: how many devices sent it and when the
    /// median, 90th-percentile and last device did (ms). Also per device, how long each step
    /// took (download, install, trial to validation passed, to commit).
    static func eventOffsets(_ events: [DeviceEvent], startMs: Int64) -> [String: [String: Double]] {
        var first: [String: [DeviceEvent.Kind: Int64]] = [:]
        for e in events where first[e.deviceID]?[e.kind] == nil { first[e.deviceID, default: [:]][e.kind] = e.atMs }
        var out: [String: [String: Double]] = [:]
        var byKind: [DeviceEvent.Kind: [Double]] = [:]
        for (_, kinds) in first { for (k, at) in kinds { byKind[k, default: []].append(Double(at - startMs)) } }
        for (k, v) in byKind {
            out["at." + k.rawValue] = ["devices": Double(v.count), "p50": median(v), "p90": percentile(v, 0.9), "max": v.max() ?? 0]
        }
        let steps: [(String, DeviceEvent.Kind, DeviceEvent.Kind)] = [
            ("download", .downloadStarted, .downloadFinished), ("install", .downloadFinished, .installed),
            ("trial (load, validate, commit)", .trialStarted, .committed), ("whole update", .desiredStateAccepted, .committed),
        ]
        for (name, from, to) in steps {
            let d = first.values.compactMap { k -> Double? in
                guard let a = k[from], let b = k[to] else { return nil }
                return Double(b - a)
            }
            if !d.isEmpty {
                out["step." + name] = ["devices": Double(d.count), "p50": median(d), "p90": percentile(d, 0.9), "max": d.max() ?? 0]
            }
        }
        return out
    }
}
