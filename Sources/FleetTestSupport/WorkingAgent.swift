public import Agent
public import FleetMQTT

/// A real agent connected over MQTT and running a synthetic workload (one inference on its
/// serving model's validation samples every 5 ms), so its telemetry carries real latencies: the
/// devices of the tests that run a coordinator with agents.
public struct WorkingAgent: Sendable {
    public let agent: AgentService
    public let transport: MQTTTransport
    let workload: Task<Void, Never>

    /// Connects an agent with `config` (its last will set) and starts it and its workload.
    public static func start(_ config: AgentConfig) async throws -> WorkingAgent {
        let agent = try AgentService(config: config)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.deviceID, will: agent.nextConnectionWill)
        try await transport.connect()
        try await agent.start(transport: transport)
        let workload = Task {
            var i = 0
            while !Task.isCancelled {
                _ = try? await agent.inferValidationSample(i)
                i += 1
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return WorkingAgent(agent: agent, transport: transport, workload: workload)
    }

    /// Takes the device off the network cleanly: workload stopped, agent stopped, disconnected
    /// (so the broker does not publish its will; it reports offline itself).
    public func stop() async {
        workload.cancel()
        await agent.stop()
        await transport.disconnect()
    }
}
