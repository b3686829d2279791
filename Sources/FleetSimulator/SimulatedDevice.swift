public import Agent
import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import Synchronization

/// One simulated device: a real `AgentService` with its own MQTT connection (client id =
/// device id), data directory, hardware class and faults, plus the tasks that give it a
/// synthetic inference workload and a misbehaving network.
public final class SimulatedDevice: Sendable {
    public let index: Int
    public let deviceID: String
    public let hardwareClass: String
    public let agent: AgentService
    /// Every fault this device has (agent and network).
    public let faults: [SimulatedFault]
    let transport: MQTTTransport
    let networkFaults: [SimulatedFault.Kind]
    let inferenceRate: Double
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let drops = Counter()

    init(index: Int, hardwareClass: String, config: SimulatorConfig, plan: FaultPlan) throws(SimulatorError) {
        self.index = index
        deviceID = config.deviceID(index)
        self.hardwareClass = hardwareClass
        faults = plan.faults.indices.contains(index) ? plan.faults[index] : []
        networkFaults = plan.networkFaults(index)
        inferenceRate = config.inferenceRate
        let deviceID = self.deviceID
        do {
            let agentConfig = try AgentConfig(
                deviceID: deviceID, broker: config.broker, dataDirectory: config.dataRoot.appendingPathComponent(deviceID),
                hardwareClass: hardwareClass, pinnedKeys: config.pinnedKeys, thresholds: config.thresholds,
                telemetryIntervalSeconds: config.telemetryIntervalSeconds, crashLoopLimit: config.crashLoopLimit,
                stallTimeoutMs: config.stallTimeoutMs, faults: plan.agentFaults(index))
            agent = try AgentService(config: agentConfig)
            transport = try MQTTTransport(broker: config.broker, clientID: deviceID, will: agent.nextConnectionWill)
        } catch {
            throw .deviceSetupFailed(deviceID: deviceID, detail: "\(error)")
        }
    }

    /// True while the MQTT connection is up.
    public var isOnline: Bool { transport.client.isConnected }
    /// Connections the network faults dropped so far.
    public var droppedConnections: Int { drops.value }

    /// Connects (retrying until the broker answers), starts the agent, then the workload and
    /// the network faults.
    func start() async throws(SimulatorError) {
        do { try await transport.connect() } catch { throw .connectFailed(deviceID: deviceID, detail: error.description) }
        do { try await agent.start(transport: transport) } catch {
            throw .deviceSetupFailed(deviceID: deviceID, detail: error.description)
        }
        var started: [Task<Void, Never>] = []
        if inferenceRate > 0 { started.append(workload()) }
        for fault in networkFaults { started.append(network(fault)) }
        tasks.withLock { $0 += started }
    }

    /// Ordered: workload and network faults first, then the agent (it reports offline), then
    /// the connection.
    func stop() async {
        for t in tasks.withLock({ t in
            defer { t = [] }
            return t
        }) { t.cancel() }
        await agent.stop()
        await transport.disconnect()
    }

    /// Inferences at `inferenceRate`, on the serving model's own validation samples in turn.
    /// Each device starts at its own phase of the period, so the fleet's load is even.
    private func workload() -> Task<Void, Never> {
        let period = Duration.milliseconds(Int64(1000 / inferenceRate))
        let phase = Double((UInt64(index) &* 0x9E37_79B9_7F4A_7C15) >> 11) / Double(1 << 53)
        let agent = self.agent
        let first = index
        return Task {
            try? await Task.sleep(for: period * phase)
            var sample = first
            var next = ContinuousClock.now
            while !Task.isCancelled {
                // Before the first model is committed there is nothing to run: that is normal.
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
        let client = transport.client
        let drops = self.drops
        return Task {
            switch fault {
            case .flapping(let every):
                while !Task.isCancelled {
                    try? await Task.sleep(for: every)
                    if Task.isCancelled { break }
                    if client.isConnected {
                        client.dropConnection()
                        drops.increment()
                    }
                }
            case .offline(let after, let duration):
                try? await Task.sleep(for: after)
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
