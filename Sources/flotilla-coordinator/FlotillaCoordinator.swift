import ArgumentParser
import Coordinator
import FleetMQTT
import Foundation
import Logging
import ProcessSupport

#if canImport(Glibc)
    import Glibc
#endif

@main
struct FlotillaCoordinator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla-coordinator", abstract: "The Flotilla coordinator: per-class builds and gated rollouts.",
        subcommands: [Run.self, Keys.self, Backup.self, Restore.self])
}

/// Builds the service from the config, runs it and the HTTP API until SIGTERM or SIGINT.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the coordinator until SIGTERM or SIGINT.")
    @Option(help: "The coordinator's JSON configuration file (deploy/coordinator.example.json).") var config: String
    @Flag(help: "Serve /metrics without a token (for a Prometheus scraper on a trusted network).") var openMetrics = false

    func run() async throws {
        let config = try CoordinatorConfigFile.load(URL(fileURLWithPath: config))
        let logger = Logger(label: "flotilla.coordinator")
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let transport = try MQTTTransport(broker: config.broker, clientID: config.clientID)
        try await transport.connect()
        let service = try CoordinatorService(config: config, store: store, transport: transport, logger: logger)
        try await service.start()
        var apiConfig = APIServerConfig(config)
        apiConfig.openMetrics = openMetrics
        let api = APIServer(config: apiConfig, operations: service)
        let port = try await api.start()
        FileHandle.standardError.write(Data("flotilla-coordinator: API and dashboard on http://\(config.httpHost):\(port)/\n".utf8))
        // Type=notify: started once the store is migrated, the broker connected and the API
        // listening; the watchdog pings only while the service actor answers.
        let notifier = SystemdNotifier()
        notifier.notify(.ready, .status("API on port \(port)"))
        let watchdog = SystemdWatchdog.start(notifier: notifier) { await service.heartbeat() }
        await Signals.wait(for: [SIGTERM, SIGINT])
        // Wait for the keep-alive task to end so no ping follows STOPPING=1.
        watchdog?.cancel()
        await watchdog?.value
        notifier.notify(.stopping)
        // Ordered shutdown: no new requests, no new steps, then the broker connection.
        await api.stop(timeout: 5)
        await service.stop()
        await transport.disconnect()
    }
}

/// Key management on the coordinator's data directory (run while the coordinator is stopped,
/// or restart it after a rotation).
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show, prepare, rotate or remove signing keys (see docs/keys.md).")
    @Option(help: "The coordinator's JSON configuration file.") var config: String
    @Argument(help: "list | prepare | rotate | remove KEYID | export") var action: String = "list"
    @Argument(help: "The key id for remove.") var keyID: String?

    func run() throws {
        let config = try CoordinatorConfigFile.load(URL(fileURLWithPath: config))
        var ring = try SigningKeyring.open(dataDirectory: config.dataDirectory)
        switch action {
        case "list":
            for key in ring.publicKeys { print("\(key.keyID)\(key.keyID == ring.activeKeyID ? "  active" : "")") }
        case "export": print(ring.publicKeysPEM(), terminator: "")
        case "prepare":
            try ring.prepareRotation()
            print("prepared; pin every key of `flotilla-coordinator keys export` on the devices, then `rotate`")
        case "rotate":
            try ring.rotate()
            print("active key is now \(ring.activeKeyID)")
        case "remove":
            guard let keyID else { throw ValidationError("remove needs the key id (see `keys list`)") }
            try ring.remove(keyID: keyID)
            print("removed \(keyID)")
        default: throw ValidationError("unknown action '\(action)': list, export, prepare, rotate or remove")
        }
    }
}
