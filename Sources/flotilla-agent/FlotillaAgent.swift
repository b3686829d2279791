import Agent
import ArgumentParser
import FleetMQTT
import Foundation
import ProcessSupport
import Runtime

#if canImport(Glibc)
    import Glibc
#endif

@main
struct FlotillaAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-agent", abstract: "The Flotilla device agent.", subcommands: [Run.self, Infer.self])
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the agent service until SIGTERM or SIGINT.")
    @Option(help: "The agent's JSON configuration file.") var config: String

    func run() async throws {
        var config = try AgentConfigFile.load(URL(fileURLWithPath: config))
        config.testPause = try TestPause.fromEnvironment(ProcessInfo.processInfo.environment)
        let agent = try AgentService(config: config)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.deviceID, will: agent.nextConnectionWill)
        try await transport.connect()
        try await agent.start(transport: transport)
        let endpoint = try config.socketPath.map { path throws(AgentError) in try InferenceEndpoint(path: path, agent: agent) }
        FileHandle.standardError.write(Data("flotilla-agent: running as \(config.deviceID) (\(config.hardwareClass))\n".utf8))
        // Type=notify: started once connected, subscribed and serving; the watchdog pings only
        // while the service actor answers.
        let notifier = SystemdNotifier()
        notifier.notify(.ready, .status(await agent.heartbeat()))
        let watchdog = SystemdWatchdog.start(notifier: notifier) { await agent.heartbeat() }
        await Signals.wait(for: [SIGTERM, SIGINT])
        // Wait for the keep-alive task to end so no ping follows STOPPING=1.
        watchdog?.cancel()
        await watchdog?.value
        notifier.notify(.stopping)
        // Ordered shutdown: stop serving, stop the service (reports offline), then disconnect.
        endpoint?.close()
        await agent.stop()
        await transport.disconnect()
    }
}

struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one inference through a running agent's socket.")
    @Option(help: "The agent's inference socket.") var socket: String
    @Option(help: "Input .npy file; the tensor is sent as the model's first input unless --name is given.") var input: String
    @Option(help: "Input name.") var name: String = "x"
    @Option(help: "Where to write the first output as .npy (default: print its shape).") var output: String?

    func run() throws {
        let tensor = try NPYFile.read(URL(fileURLWithPath: input))
        let outputs = try InferenceEndpoint.request(socket: socket, inputs: [name: tensor])
        guard let (outName, first) = outputs.sorted(by: { $0.key < $1.key }).first else {
            throw AgentError.inferenceFailed(detail: "the model returned no outputs")
        }
        if let output {
            try NPYFile.write(first, to: URL(fileURLWithPath: output))
        } else {
            print("\(outName): \(first.elementType) \(first.shape)")
        }
    }
}
