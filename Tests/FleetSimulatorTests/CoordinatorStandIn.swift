import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import ModelArtifact
import Synchronization

/// Plays the coordinator for a whole fleet over a real broker, as a plain MQTT client:
/// records every device's online status, state reports, events and telemetry, publishes signed
/// desired states, and answers chunk requests with the artifact's frames.
final class CoordinatorStandIn: Sendable {
    let transport: MQTTTransport
    struct Recorded {
        var online: [String: OnlineStatus] = [:]
        var retainedOnline = 0
        var states: [String: DeviceStateReport] = [:]
        var events: [DeviceEvent] = []
        var telemetry: [TelemetrySummary] = []
        var releases: [String: SimulatorFixtures.Release] = [:]
        var chunkRequests = 0
        /// Every chunk request, by device, in arrival order.
        var requests: [String: [ChunkRequest]] = [:]
        /// Every online status, by device, in arrival order (wills included).
        var onlineLog: [String: [OnlineStatus]] = [:]
    }
    let recorded = Mutex(Recorded())
    private let tasks = Mutex<[Task<Void, Never>]>([])

    init(port: Int) async throws {
        transport = try MQTTTransport(configuration: MQTTConfiguration(host: "127.0.0.1", port: port, clientID: "coordinator-stand-in"))
        try await transport.connect()
        let root = "\(Topics.root)/devices/+"
        let online = try await transport.subscribe("\(root)/online", qos: .atLeastOnce)
        let states = try await transport.subscribe("\(root)/state", qos: .atLeastOnce)
        let events = try await transport.subscribe("\(root)/events", qos: .atLeastOnce)
        let telemetry = try await transport.subscribe("\(root)/telemetry", qos: .atLeastOnce)
        let requests = try await transport.subscribe("\(root)/chunks/request", qos: .atLeastOnce)
        let started: [Task<Void, Never>] = [
            Task { [self] in
                for await m in online {
                    guard let s = try? MessageEnvelope.decode(OnlineStatus.self, from: m.payload) else { continue }
                    recorded.withLock { r in
                        r.onlineLog[s.deviceID, default: []].append(s)
                        if m.retained { r.retainedOnline += 1 }
                        if let old = r.online[s.deviceID], !s.supersedes(old), old != s { return }
                        r.online[s.deviceID] = s
                    }
                }
            },
            Task { [self] in
                for await m in states {
                    guard let s = try? MessageEnvelope.decode(DeviceStateReport.self, from: m.payload) else { continue }
                    recorded.withLock { r in
                        if let old = r.states[s.deviceID], old.sequence > s.sequence { return }
                        r.states[s.deviceID] = s
                    }
                }
            },
            Task { [self] in
                for await m in events {
                    if let e = try? MessageEnvelope.decode(DeviceEvent.self, from: m.payload) { recorded.withLock { $0.events.append(e) } }
                }
            },
            Task { [self] in
                for await m in telemetry {
                    if let t = try? MessageEnvelope.decode(TelemetrySummary.self, from: m.payload) {
                        recorded.withLock { $0.telemetry.append(t) }
                    }
                }
            },
            Task { [weak self] in
                for await m in requests {
                    guard let r = try? MessageEnvelope.decode(ChunkRequest.self, from: m.payload) else { continue }
                    await self?.answer(r)
                }
            },
        ]
        tasks.withLock { $0 = started }
    }

    func close() async {
        for t in tasks.withLock({ $0 }) { t.cancel() }
        await transport.disconnect()
    }

    func publishDesired(deviceID: String, sequence: UInt64, release: SimulatorFixtures.Release) async throws {
        recorded.withLock { $0.releases[release.descriptor.artifactDigest] = release }
        let desired = DesiredState(
            deviceID: deviceID, sequence: sequence, issuedAtMs: 0, artifact: release.descriptor, trial: TrialPolicy(watchSeconds: 0),
            rollback: nil)
        let envelope = try MessageSigner(key: SimulatorFixtures.signingKey).sign(desired)
        try await transport.publish(
            topic: try Topics.device(deviceID, .desired), payload: MessageEnvelope.encode(envelope), qos: .atLeastOnce, retain: true)
    }

    func answer(_ request: ChunkRequest) async {
        let release = recorded.withLock { r in
            r.chunkRequests += 1
            r.requests[request.deviceID, default: []].append(request)
            return r.releases[request.artifactDigest]
        }
        guard let release, let plan = try? release.descriptor.chunkPlan,
            let frames = try? Chunker.frames(of: release.compressed, plan: plan),
            let topic = try? Topics.artifact(
                hardwareClass: release.descriptor.hardwareClass, artifactDigest: request.artifactDigest, .chunks)
        else { return }
        for index in request.indices(chunkCount: plan.chunkCount) {
            try? await transport.publish(topic: topic, payload: frames[index].encoded, qos: .atLeastOnce, retain: false)
        }
    }

    func state(_ deviceID: String) -> DeviceStateReport? { recorded.withLock { $0.states[deviceID] } }
    func events(_ deviceID: String) -> [DeviceEvent] { recorded.withLock { $0.events.filter { $0.deviceID == deviceID } } }
}
