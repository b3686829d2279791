public import Agent
import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import Synchronization

/// One simulated device: a real `AgentService` with its own MQTT connection (client id =
/// device id), data directory, hardware class and faults, plus the tasks that give it a
/// synthetic inference workload and a misbehaving network.
///
/// A device outlives its agents: an injected kill (`killMidDownload`) ends one agent abruptly
/// and, after a pause, starts a new one on the same data directory with a new connection (see
/// SimulatedDevice+Kill.swift). The workload and network faults follow whichever agent runs.
public final class SimulatedDevice: Sendable {
    public let index: Int
    public let deviceID: String
    public let hardwareClass: String
    /// Every fault this device has (agent and network).
    public let faults: [SimulatedFault]
    let agentConfig: AgentConfig
    let broker: BrokerConfig
    let networkFaults: [SimulatedFault.Kind]
    let inferenceRate: Double
    /// How long the device stays dead after an injected kill (nil: it has no kill fault).
    let killPause: Duration?
    let life: Mutex<Life>
    private let drops = Counter()

    /// One agent and its connection, from start to stop or kill.
    struct Incarnation: Sendable {
        var agent: AgentService
        var transport: MQTTTransport
    }

    struct Life {
        var current: Incarnation
        /// Between an injected kill and the new agent's start.
        var dead = false
        var stopping = false
        var tasks: [Task<Void, Never>] = []
        var kills: [KilledDownload] = []
    }

    init(index: Int, hardwareClass: String, config: SimulatorConfig, plan: FaultPlan) throws(SimulatorError) {
        self.index = index
        deviceID = config.deviceID(index)
        self.hardwareClass = hardwareClass
        faults = plan.faults.indices.contains(index) ? plan.faults[index] : []
        networkFaults = plan.networkFaults(index)
        inferenceRate = config.inferenceRate
        killPause = plan.killPause(index)
        broker = config.broker
        let deviceID = self.deviceID
        do {
            // One intra-op thread: a simulated device is one device, not this machine, and a
            // thousand agents must not each park a worker thread per session.
            agentConfig = try AgentConfig(
                deviceID: deviceID, broker: config.broker, dataDirectory: config.dataRoot.appendingPathComponent(deviceID),
                hardwareClass: hardwareClass, pinnedKeys: config.pinnedKeys, thresholds: config.thresholds,
                telemetryIntervalSeconds: config.telemetryIntervalSeconds, crashLoopLimit: config.crashLoopLimit,
                stallTimeoutMs: config.stallTimeoutMs, inferenceThreads: 1, faults: plan.agentFaults(index))
        } catch {
            throw .deviceSetupFailed(deviceID: deviceID, detail: "\(error)")
        }
        life = Mutex(Life(current: try Self.incarnate(agentConfig, broker: config.broker)))
    }

    /// A new agent on this device's data directory and a new connection carrying its will.
    static func incarnate(_ config: AgentConfig, broker: BrokerConfig) throws(SimulatorError) -> Incarnation {
        do {
            let agent = try AgentService(config: config)
            return Incarnation(
                agent: agent, transport: try MQTTTransport(broker: broker, clientID: config.deviceID, will: agent.nextConnectionWill))
        } catch {
            throw .deviceSetupFailed(deviceID: config.deviceID, detail: "\(error)")
        }
    }

    /// The device's agent: the running one, or during the pause after an injected kill the
    /// dead one (still readable: its last state).
    public var agent: AgentService { life.withLock { $0.current.agent } }
    var transport: MQTTTransport { life.withLock { $0.current.transport } }
    /// True while the MQTT connection is up.
    public var isOnline: Bool { life.withLock { !$0.dead && $0.current.transport.client.isConnected } }
    /// True between an injected kill and the new agent's start.
    public var isDead: Bool { life.withLock { $0.dead } }
    /// Connections the network faults dropped so far.
    public var droppedConnections: Int { drops.value }
    /// Each injected kill of this device so far, oldest first.
    public var kills: [KilledDownload] { life.withLock { $0.kills } }

    /// Connects (retrying until the broker answers), starts the agent, then the workload, the
    /// network faults and the watch for injected kills.
    func start() async throws(SimulatorError) {
        let first = life.withLock { $0.current }
        try await launch(first)
        var started: [Task<Void, Never>] = []
        if inferenceRate > 0 { started.append(workload()) }
        for fault in networkFaults { started.append(network(fault)) }
        if killPause != nil { started.append(watchKills(first.agent)) }
        life.withLock { $0.tasks += started }
    }

    func launch(_ incarnation: Incarnation) async throws(SimulatorError) {
        do { try await incarnation.transport.connect() } catch { throw .connectFailed(deviceID: deviceID, detail: error.description) }
        do { try await incarnation.agent.start(transport: incarnation.transport) } catch {
            throw .deviceSetupFailed(deviceID: deviceID, detail: error.description)
        }
    }

    /// Ordered: workload, faults and kill watch first, then the agent (it reports offline),
    /// then the connection. A device caught dead is only disconnected.
    func stop() async {
        let (tasks, current, dead) = life.withLock { l in
            l.stopping = true
            defer { l.tasks = [] }
            return (l.tasks, l.current, l.dead)
        }
        for t in tasks { t.cancel() }
        if !dead { await current.agent.stop() }
        await current.transport.disconnect()
    }

    /// Inferences at `inferenceRate`, on the serving model's own validation samples in turn.
    /// Each device starts at its own phase of the period, so the fleet's load is even.
    private func workload() -> Task<Void, Never> {
        let period = Duration.milliseconds(Int64(1000 / inferenceRate))
        let phase = Double((UInt64(index) &* 0x9E37_79B9_7F4A_7C15) >> 11) / Double(1 << 53)
        let first = index
        return Task { [self] in
            try? await Task.sleep(for: period * phase)
            var sample = first
            var next = ContinuousClock.now
            while !Task.isCancelled {
                // Before the first model is committed (or while the device is dead) there is
                // nothing to run: that is normal.
                _ = try? await agent.inferValidationSample(sample)
                sample &+= 1
                next += period
                let now = ContinuousClock.now
                // Behind schedule (a slowed device, a busy machine): skip, do not burst.
                if next < now { next = now }
                try? await Task.sleep(until: next, clock: .continuous)
            }
        }
    }

    private func network(_ fault: SimulatedFault.Kind) -> Task<Void, Never> {
        let drops = self.drops
        return Task { [self] in
            switch fault {
            case .flapping(let every):
                while !Task.isCancelled {
                    try? await Task.sleep(for: every)
                    if Task.isCancelled { break }
                    let client = transport.client
                    if client.isConnected {
                        client.dropConnection()
                        drops.increment()
                    }
                }
            case .offline(let after, let duration):
                try? await Task.sleep(for: after)
                let client = transport.client
                if !Task.isCancelled, client.isConnected {
                    client.dropConnection(offlineFor: duration)
                    drops.increment()
                }
            default:
                break
            }
        }
    }
}

/// A count shared with the fault tasks.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
}

/// The first error of many concurrent tasks.
final class FirstFailure: Sendable {
    private let error = Mutex<SimulatorError?>(nil)
    var value: SimulatorError? { error.withLock { $0 } }
    func record(_ e: SimulatorError) { error.withLock { if $0 == nil { $0 = e } } }
}
