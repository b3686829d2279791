import Agent
import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import ModelArtifact
import Synchronization

/// Plays the coordinator over a real broker: publishes signed desired states, answers chunk
/// requests with frames (optionally corrupting or withholding some), records what the device
/// reports.
final class TestCoordinator: Sendable {
    let transport: MQTTTransport
    let deviceID: String
    struct Recorded {
        var events: [DeviceEvent] = []
        var states: [DeviceStateReport] = []
        var requests: [ChunkRequest] = []
        var telemetry: [TelemetrySummary] = []
        /// Every online status seen, retained or live, in arrival order.
        var online: [OnlineStatus] = []
        var releases: [String: AgentFixtures.Release] = [:]
        /// Chunk indices whose next send is corrupted (payload byte flipped).
        var corruptOnce: Set<Int> = []
        /// Send at most this many chunks per request (nil: all).
        var sendLimit: Int?
    }
    let recorded = Mutex(Recorded())
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// `persistentSession`: the broker queues what the device publishes while this client is
    /// away (with a persisting broker, across a broker restart too).
    init(port: Int, deviceID: String = "dev-1", persistentSession: Bool = false) async throws {
        self.deviceID = deviceID
        var configuration = MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "coordinator-test")
        configuration.cleanSession = !persistentSession
        transport = try MQTTTransport(configuration: configuration)
        try await transport.connect()
        let events = try await transport.subscribe(try Topics.device(deviceID, .events), qos: .atLeastOnce)
        let states = try await transport.subscribe(try Topics.device(deviceID, .state), qos: .atLeastOnce)
        let requests = try await transport.subscribe(try Topics.device(deviceID, .chunkRequest), qos: .atLeastOnce)
        let telemetry = try await transport.subscribe(try Topics.device(deviceID, .telemetry), qos: .atLeastOnce)
        let online = try await transport.subscribe(try Topics.device(deviceID, .online), qos: .atLeastOnce)
        let t1 = Task { [self] in
            for await m in events {
                if let e = try? MessageEnvelope.decode(DeviceEvent.self, from: m.payload) { recorded.withLock { $0.events.append(e) } }
            }
        }
        let t2 = Task { [self] in
            for await m in states {
                if let s = try? MessageEnvelope.decode(DeviceStateReport.self, from: m.payload) {
                    recorded.withLock { $0.states.append(s) }
                }
            }
        }
        let t3 = Task { [weak self] in
            for await m in requests {
                guard let r = try? MessageEnvelope.decode(ChunkRequest.self, from: m.payload) else { continue }
                await self?.answer(r)
            }
        }
        let t4 = Task { [self] in
            for await m in telemetry {
                if let s = try? MessageEnvelope.decode(TelemetrySummary.self, from: m.payload) {
                    recorded.withLock { $0.telemetry.append(s) }
                }
            }
        }
        let t5 = Task { [self] in
            for await m in online {
                if let s = try? MessageEnvelope.decode(OnlineStatus.self, from: m.payload) { recorded.withLock { $0.online.append(s) } }
            }
        }
        tasks.withLock { $0 = [t1, t2, t3, t4, t5] }
    }

    func close() async {
        for t in tasks.withLock({ $0 }) { t.cancel() }
        await transport.disconnect()
    }

    var events: [DeviceEvent] { recorded.withLock { $0.events } }
    var lastState: DeviceStateReport? { recorded.withLock { $0.states.max { $0.sequence < $1.sequence } } }
    var requests: [ChunkRequest] { recorded.withLock { $0.requests } }

    func publishDesired(
        sequence: UInt64, release: AgentFixtures.Release?, key: ArtifactSigningKey = AgentFixtures.signingKey,
        rollback: RollbackDirective? = nil, trial: TrialPolicy = TrialPolicy(watchSeconds: 0),
        tamper: Bool = false
    ) async throws {
        if let release { recorded.withLock { $0.releases[release.descriptor.artifactDigest] = release } }
        let desired = DesiredState(
            deviceID: deviceID, sequence: sequence, issuedAtMs: 0, artifact: release?.descriptor, trial: trial,
            rollback: rollback)
        var envelope = try MessageSigner(key: key).sign(desired)
        if tamper { envelope.signature[0] ^= 0xFF }
        try await transport.publish(
            topic: try Topics.device(deviceID, .desired), payload: MessageEnvelope.encode(envelope), qos: .atLeastOnce, retain: true)
    }

    /// Tells every device downloading `release` to stop (unsigned, as in protocol v1).
    func publishCancel(_ release: AgentFixtures.Release, reason: String = "rollout halted") async throws {
        let d = release.descriptor
        let cancel = DownloadCancel(
            hardwareClass: d.hardwareClass, artifactDigest: d.artifactDigest, releaseSequence: d.releaseSequence, reason: reason)
        try await transport.publish(
            topic: try Topics.artifact(hardwareClass: d.hardwareClass, artifactDigest: d.artifactDigest, .cancel),
            payload: MessageEnvelope.encode(cancel), qos: .atLeastOnce, retain: false)
    }

    /// Events with duplicates (QoS 1 redeliveries, outbox replays) dropped by sequence, as the
    /// real coordinator does.
    var uniqueEvents: [DeviceEvent] {
        var seen: Set<UInt64> = []
        return events.filter { seen.insert($0.sequence).inserted }
    }

    func answer(_ request: ChunkRequest) async {
        let (release, corrupt, limit) = recorded.withLock { r in
            r.requests.append(request)
            return (r.releases[request.artifactDigest], r.corruptOnce, r.sendLimit)
        }
        guard let release, let plan = try? release.descriptor.chunkPlan,
            let frames = try? Chunker.frames(of: release.compressed, plan: plan)
        else { return }
        guard
            let topic = try? Topics.artifact(
                hardwareClass: release.descriptor.hardwareClass, artifactDigest: request.artifactDigest, .chunks)
        else { return }
        var sent = 0
        for index in request.indices(chunkCount: plan.chunkCount) {
            if let limit, sent >= limit { break }
            var bytes = frames[index].encoded
            if corrupt.contains(index) {
                bytes[bytes.count - 1] ^= 0x5A
                recorded.withLock { _ = $0.corruptOnce.remove(index) }
            }
            try? await transport.publish(topic: topic, payload: bytes, qos: .atLeastOnce, retain: false)
            sent += 1
        }
    }
}
