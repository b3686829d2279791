import Agent
import FleetMQTT
import FleetSimulator
import Foundation
import ModelArtifact

/// The fleet side of the rollout benchmark: `options.devices` real agents of one class in this
/// process (`Simulator`, no synthetic workload). Reports the process RSS before the fleet, with
/// the fleet idle, and once the coordinator says every device committed.
struct RolloutFleet {
    let options: Options
    let deadline: ContinuousClock.Instant

    func run() async throws {
        let work = URL(fileURLWithPath: options.work)
        let pem = work.appendingPathComponent("pub.pem").path
        try await waitForFile(pem, deadline: deadline, what: "the coordinator's public key")
        let text = try String(contentsOfFile: pem, encoding: .utf8)
        let marker = "-----END PUBLIC KEY-----"
        let keys = try text.components(separatedBy: marker).filter { $0.contains("BEGIN") }.map {
            try ArtifactPublicKey(pemRepresentation: $0 + marker + "\n")
        }
        let rssStart = rssKiB()
        let config = try SimulatorConfig(
            deviceCount: options.devices, classMix: ClassMix([(name: RolloutCoordinator.hardwareClass, weight: 1)]),
            dataRoot: work.appendingPathComponent("fleet"), broker: BrokerConfig(host: "127.0.0.1", port: options.port), pinnedKeys: keys,
            inferenceRate: 0, telemetryIntervalSeconds: 60, thresholds: ValidationThresholds(latencyRuns: 3), stallTimeoutMs: 120_000)
        let simulator = Simulator(config: config)
        let start = ContinuousClock.now
        try await simulator.start()
        let startedMs = (ContinuousClock.now - start).ms
        note("\(options.devices) agents connected in \(Int(startedMs)) ms")
        try await Task.sleep(for: .seconds(3))
        let rssIdle = rssKiB()

        let done = work.appendingPathComponent("done").path
        do { try await waitForFile(done, deadline: deadline, what: "the coordinator's end of rollout") } catch {
            await simulator.stop()
            throw error
        }
        // The agents' last state reports and events leave just after their commit.
        try await Task.sleep(for: .seconds(1))
        let rssCommitted = rssKiB()
        var committed = 0
        var perStep: [String: [Double]] = [:]
        for device in await simulator.devices {
            if await device.agent.stateReport().running?.status == .committed { committed += 1 }
            for (name, step) in await device.agent.stepTimes.steps {
                perStep[name, default: []].append(Double(step.totalMicroseconds) / 1000)
            }
        }
        // Per step: how many agents ran it, and the per-device total wall time (ms).
        let steps = perStep.mapValues { v -> [String: Double] in
            ["devices": Double(v.count), "p50_ms": median(v), "p90_ms": percentile(v, 0.9), "sum_ms": v.reduce(0, +)]
        }
        let cpu = cpuMs()
        await simulator.stop()
        try emit([
            "mode": "fleet", "devices": options.devices, "committed_agents": committed, "connect_ms": startedMs,
            "fleet_rss_start_kib": rssStart, "fleet_rss_idle_kib": rssIdle, "fleet_rss_committed_kib": rssCommitted, "fleet_cpu_ms": cpu,
            "agent_steps": steps,
        ])
    }
}
