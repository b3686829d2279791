import Coordinator
import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import Synchronization

/// Telemetry ingest: real `TelemetrySummary` messages from `options.connections` MQTT
/// connections (each speaking for `devices / connections` registered devices), at stepped
/// rates into `CoordinatorService`; beside it, the same messages published flat out to one
/// plain subscriber (an `MQTTClient` that only counts).
struct IngestBench {
    static let digest = String(repeating: "ab", count: 32)
    static let hardwareClass = "x86_64-avx2"
    /// A step keeps up when the store holds every summary published so far within this long
    /// after the step's last publish (flush interval 1 s + one batch transaction + slack).
    static let catchUpSeconds = 3.0
    let options: Options
    let deadline: ContinuousClock.Instant

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        let lastAtNs = Atomic<Int64>(0)
    }

    func deviceID(_ d: Int) -> String { "ingest-\(d)" }

    /// The next `count` messages of connection `c`: its devices in turn, each with its next
    /// sequence, windows ending now (so they land in the live bucket).
    func messages(connection c: Int, count: Int, sequences: inout [UInt64], rng: inout UInt64) throws -> [(String, [UInt8])] {
        let mine = stride(from: c, to: options.devices, by: options.connections).map { $0 }
        guard !mine.isEmpty else { return [] }
        let end = nowMs()
        var out: [(String, [UInt8])] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let d = mine[i % mine.count]
            sequences[d] += 1
            var histogram = LatencyHistogram()
            for _ in 0..<16 {
                rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                histogram.record(200 + (rng >> 33) % 20_000)
            }
            let summary = TelemetrySummary(
                deviceID: deviceID(d), sequence: sequences[d], windowStartMs: end - 10_000, windowEndMs: end, artifactDigest: Self.digest,
                releaseSequence: 1, state: "committed", latencyUs: histogram, inferences: 16, errors: 0, validationAccuracy: 1,
                validationAgreement: 1, rssBytes: 30_000_000)
            out.append((try Topics.device(deviceID(d), .telemetry), MessageEnvelope.encode(summary)))
        }
        return out
    }

    func connectPublishers(_ tag: String) async throws -> [MQTTTransport] {
        var out: [MQTTTransport] = []
        for c in 0..<options.connections {
            let t = try MQTTTransport(broker: BrokerConfig(host: "127.0.0.1", port: options.port), clientID: "\(tag)-pub-\(c)")
            try await t.connect()
            out.append(t)
        }
        return out
    }

    /// Publishes each connection's messages at `rate` in total (QoS 1, each awaited), or flat
    /// out when `rate` is nil; returns the publishing time.
    func publish(_ batches: [[(String, [UInt8])]], on transports: [MQTTTransport], rate: Int?, counter: Counter) async throws -> Duration {
        let start = ContinuousClock.now
        let interval = rate.map { Duration.seconds(Double(transports.count) / Double($0)) }
        let end = deadline
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (c, batch) in batches.enumerated() {
                let transport = transports[c]
                group.addTask {
                    var next = start
                    for (topic, payload) in batch {
                        if let interval {
                            if next > .now { try await Task.sleep(until: next, clock: .continuous) }
                            next += interval
                        }
                        guard ContinuousClock.now < end else { throw BenchError("publishing ran past the deadline") }
                        try await transport.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: false)
                        counter.value.add(1, ordering: .relaxed)
                    }
                }
            }
            try await group.waitForAll()
        }
        return .now - start
    }

    // MARK: Coordinator

    func runCoordinator() async throws {
        let work = URL(fileURLWithPath: options.work)
        let data = work.appendingPathComponent("ingest-coordinator")
        let config = try CoordinatorConfig(
            dataDirectory: data, broker: BrokerConfig(host: "127.0.0.1", port: options.port), clientID: "fleet-bench-ingest",
            httpPort: 0, apiTokens: ["bench": "fleet-bench-token-0123456789"], telemetryBucketSeconds: 60, hardwareClassDirectory: work,
            // The benchmark concentrates a fleet's aggregate rate on 1000 devices (10+ summaries/s
            // each, far above a real agent's): lift the per-device budget so the figure is the
            // ingest path's capacity, with the limiter's own cost still in it.
            ingestBudget: IngestBudget(messagesPerSecond: 1_000_000, burst: 1_000_000))
        let store = try SQLiteStore(dataDirectory: data)
        let now = nowMs()
        for d in 0..<options.devices {
            let running = RunningModel(
                modelName: "bench", modelVersion: "1", releaseSequence: 1, artifactDigest: Self.digest, slot: .a, status: .committed)
            _ = try store.applyStateReport(
                DeviceStateReport(
                    deviceID: deviceID(d), hardwareClass: Self.hardwareClass, agentVersion: "bench", sequence: 1, reportedAtMs: now,
                    running: running, phase: "committed"), receivedAtMs: now)
        }
        let transport = try MQTTTransport(broker: config.broker, clientID: config.clientID)
        try await transport.connect()
        let service = try CoordinatorService(config: config, store: store, transport: transport)
        try await service.start()
        let publishers = try await connectPublishers("ingest")
        func merged() throws -> Int {
            Int(try store.telemetryTotals(artifactDigest: Self.digest, hardwareClass: Self.hardwareClass, sinceMs: 0)?.summaries ?? 0)
        }

        var sequences = [UInt64](repeating: 0, count: options.devices)
        var rng: UInt64 = 7
        let counter = Counter()
        var steps: [[String: Any]] = []
        var best: [String: Any]? = nil
        for rate in options.rates {
            let total = Int(Double(rate) * options.stepSeconds)
            let perConnection = (0..<options.connections).map { c in total / options.connections + (c < total % options.connections ? 1 : 0)
            }
            let batches = try (0..<options.connections).map { c in
                try messages(connection: c, count: perConnection[c], sequences: &sequences, rng: &rng)
            }
            let cpuStart = cpuMs()
            // Lag sampled while the step runs: published minus merged.
            let sampler = Task {
                var maxLag = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    if let m = try? merged() { maxLag = max(maxLag, counter.value.load(ordering: .relaxed) - m) }
                }
                return maxLag
            }
            let took = try await publish(batches, on: publishers, rate: rate, counter: counter)
            let published = counter.value.load(ordering: .relaxed)
            let stepEnd = ContinuousClock.now
            var count = try merged()
            while count < published, ContinuousClock.now - stepEnd < .seconds(Self.catchUpSeconds), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                count = try merged()
            }
            let caughtUp = count >= published
            let catchUpMs = (ContinuousClock.now - stepEnd).ms
            sampler.cancel()
            let maxLag = await sampler.value
            let achieved = Double(total) / (took.ms / 1000)
            let keptUp = caughtUp && achieved >= 0.95 * Double(rate)
            let step: [String: Any] = [
                "target_per_s": rate, "published": total, "achieved_per_s": achieved, "merged_total": count,
                "published_total": published, "caught_up": caughtUp, "catch_up_ms": catchUpMs, "max_lag": maxLag,
                "kept_up": keptUp, "cpu_ms": cpuMs() - cpuStart,
            ]
            note("ingest step \(rate)/s: published at \(Int(achieved))/s, merged \(count) of \(published), kept up: \(keptUp)")
            steps.append(step)
            if keptUp { best = step } else { break }
            if !caughtUp {
                // Let the backlog drain before stopping so the store is not mid-batch at exit.
                try? await Task.sleep(for: .seconds(2))
            }
        }
        let counters = try await service.prometheusMetrics(actor: "fleet-bench")
        await service.stop()
        for p in publishers { await p.disconnect() }
        await transport.disconnect()
        try emit([
            "mode": "ingest", "devices": options.devices, "connections": options.connections, "steps": steps,
            "sustained_per_s": best?["achieved_per_s"] ?? 0, "sustained_target_per_s": best?["target_per_s"] ?? 0,
            "coordinator_counters": counters.split(separator: "\n").filter { $0.hasPrefix("flotilla_coordinator_messages") }
                .joined(separator: "\n"),
        ])
    }

    // MARK: Peer

    /// The same messages, published flat out from the same number of connections, delivered by
    /// the broker to one subscriber that only counts them.
    func runPeer() async throws {
        let counter = Counter()
        let received = Counter()
        let expected = options.messages
        let subscriber = try MQTTClient(
            configuration: MQTTConfiguration(host: "127.0.0.1", port: options.port, clientID: "ingest-peer-sub"),
            onMessage: { _ in
                received.value.add(1, ordering: .relaxed)
                received.lastAtNs.store(Int64(DispatchTime.now().uptimeNanoseconds), ordering: .relaxed)
            })
        try await subscriber.connect()
        _ = try await subscriber.subscribe("\(Topics.root)/devices/+/telemetry", qos: .atLeastOnce)
        let publishers = try await connectPublishers("peer")
        var sequences = [UInt64](repeating: 0, count: options.devices)
        var rng: UInt64 = 7
        let batches = try (0..<options.connections).map { c in
            try messages(
                connection: c, count: expected / options.connections + (c < expected % options.connections ? 1 : 0), sequences: &sequences,
                rng: &rng)
        }
        let cpuStart = cpuMs()
        let startNs = Int64(DispatchTime.now().uptimeNanoseconds)
        let took = try await publish(batches, on: publishers, rate: nil, counter: counter)
        while received.value.load(ordering: .relaxed) < expected {
            guard ContinuousClock.now < deadline else {
                throw BenchError("the subscriber received \(received.value.load(ordering: .relaxed)) of \(expected) messages")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seconds = Double(received.lastAtNs.load(ordering: .relaxed) - startNs) / 1e9
        for p in publishers { await p.disconnect() }
        await subscriber.disconnect()
        try emit([
            "mode": "ingest-peer", "messages": expected, "connections": options.connections, "delivered_per_s": Double(expected) / seconds,
            "publish_ms": took.ms, "payload_bytes": batches.first?.first?.1.count ?? 0, "cpu_ms": cpuMs() - cpuStart,
        ])
    }
}
