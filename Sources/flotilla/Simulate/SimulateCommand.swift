import Agent
import ArgumentParser
import FleetMQTT
import FleetSimulator
import Foundation
import ModelArtifact

#if canImport(Glibc)
    import Glibc
#endif

/// `flotilla simulate --broker URL --devices N --classes MIX --data-dir DIR --pinned-key FILE...
///  [--rate 2/s] [--telemetry-interval 5s] [--fault SPEC]... [--json-status FILE]`
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a fleet of real agents in this process against a broker, with injected faults.",
        discussion: """
            Each simulated device is a real agent (its own MQTT connection with client id = device id, \
            data directory DIR/<id>, hardware class, pinned keys) that verifies, installs and validates \
            what the coordinator sends on the int8 runtime, and runs its serving model on its validation \
            samples at --rate. Runs until SIGINT or SIGTERM, printing a summary every second.

            Faults (repeatable --fault): slow:FRACTION:xFACTOR, broken[:FRACTION], crash[:FRACTION], \
            flapping:FRACTION:every=5s, offline:FRACTION:after=30s,for=20s, \
            killMidDownload:FRACTION[:at=0.5,pause=2s] (the agent is killed once it has stored that share of \
            a download, then restarted on its data directory to resume it); each takes class=NAME and \
            version=V (model version or release sequence) to limit it, e.g. broken:class=arm64-dotprod,version=2. \
            Devices are chosen by --seed. See docs/simulator.md.
            """
    )

    @Option(help: ArgumentHelp("The broker: mqtt://host[:port] or mqtts://host[:port].", valueName: "URL"))
    var broker = "mqtt://127.0.0.1:1883"

    @Option(
        name: .customLong("protocol"),
        help: ArgumentHelp("MQTT version: 5, 3.1.1 or auto (docs/brokers.md).", valueName: "VERSION"))
    var mqttProtocol = "5"

    @Option(help: "How many devices.")
    var devices = 60

    @Option(help: ArgumentHelp("Hardware classes and their weights.", valueName: "CLASS:WEIGHT,..."))
    var classes = "x86_64-avx2:1,x86_64-avx512-vnni:1,arm64-dotprod:1"

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Root of the devices' data directories.", valueName: "DIR"))
    var dataDirectory: String

    @Option(name: .customLong("pinned-key"), help: ArgumentHelp("A coordinator public key (PEM); repeatable.", valueName: "FILE"))
    var pinnedKeys: [String] = []

    @Option(help: ArgumentHelp("Synthetic inferences per device: 2/s, 0.5/s, 30/m, or a number per second.", valueName: "RATE"))
    var rate = "1/s"

    @Option(name: .customLong("telemetry-interval"), help: ArgumentHelp("Telemetry interval of every agent.", valueName: "DURATION"))
    var telemetryInterval = "60s"

    @Option(name: .customLong("fault"), help: ArgumentHelp("A fault to inject (see above); repeatable.", valueName: "SPEC"))
    var faults: [String] = []

    @Option(help: "Seed for choosing the devices that get each fault.")
    var seed: UInt64 = 1

    @Option(name: .customLong("connect-rate"), help: "New connections per second while the fleet starts.")
    var connectRate = 200.0

    @Option(name: .customLong("id-prefix"), help: "Device ids are PREFIX-0001, PREFIX-0002, ...")
    var idPrefix = "sim"

    @Option(name: .customLong("json-status"), help: ArgumentHelp("Also write the summary here as JSON every second.", valueName: "FILE"))
    var jsonStatus: String?

    @Option(name: .customLong("username"), help: "Broker user name (with --password-file).")
    var username: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp("File holding the broker password.", valueName: "FILE"))
    var passwordFile: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("CA certificate (PEM) for mqtts://.", valueName: "FILE"))
    var caFile: String?

    func run() async throws {
        let config = try makeConfig()
        let simulator = Simulator(config: config)
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let reporter = SummaryReporter(simulator: simulator, jsonPath: jsonStatus)
        let printing = Task { await reporter.run() }
        say("starting \(config.deviceCount) devices (\(config.classMix)) against \(broker); faults: \(describeFaults(simulator.plan))")
        // The first outcome decides: the fleet failed to start (an error), or a signal (nil).
        let (outcomes, outcome) = AsyncStream<SimulatorError?>.makeStream()
        let starting = Task {
            do throws(SimulatorError) { try await simulator.start() } catch { outcome.yield(error) }
        }
        let waiting = Task {
            await signals.wait()
            outcome.yield(nil)
        }
        var failed: SimulatorError?
        for await first in outcomes {
            failed = first
            break
        }
        waiting.cancel()
        starting.cancel()
        if let failed {
            printing.cancel()
            throw CLIError("the simulated fleet did not start: \(failed)")
        }
        say("stopping: \(await simulator.devices.count) devices, newest first")
        printing.cancel()
        _ = await printing.value
        await simulator.stop()
        // A fresh record: the final summary recaps every kill.
        var told: Set<String> = []
        await reporter.report(final: true, told: &told)
        say("stopped")
    }

    func makeConfig() throws -> SimulatorConfig {
        let parsed: (host: String, port: Int, tls: Bool)
        do { parsed = try BrokerConfig.parse(url: broker) } catch { throw CLIError("--broker: \(error)") }
        var brokerConfig = BrokerConfig(host: parsed.host, port: parsed.port, useTLS: parsed.tls, caFile: caFile, username: username)
        do { brokerConfig.mqttProtocol = try BrokerProtocol.parse(mqttProtocol) } catch { throw CLIError("--protocol: \(error)") }
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw CLIError("--password-file '\(passwordFile)' cannot be read")
            }
            brokerConfig.password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard !pinnedKeys.isEmpty else { throw CLIError("give the coordinator's public key with --pinned-key FILE (PEM)") }
        var keys: [ArtifactPublicKey] = []
        for path in pinnedKeys {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError("--pinned-key '\(path)' cannot be read")
            }
            do { keys.append(try ArtifactPublicKey(pemRepresentation: text)) } catch {
                throw CLIError("--pinned-key '\(path)' is not an Ed25519 public key PEM: \(error)")
            }
        }
        do {
            return try SimulatorConfig(
                deviceCount: devices, classMix: try ClassMix.parse(classes),
                dataRoot: URL(fileURLWithPath: dataDirectory, isDirectory: true), broker: brokerConfig, pinnedKeys: keys,
                inferenceRate: try Self.parseRate(rate), telemetryIntervalSeconds: try Self.parseSeconds(telemetryInterval),
                faults: try faults.map { try SimulatedFault.parse($0) }, seed: seed,
                connectsPerSecond: connectRate, deviceIDPrefix: idPrefix)
        } catch { throw CLIError("\(error)") }
    }

    /// `2/s`, `30/m`, `0.5` (per second).
    static func parseRate(_ text: String) throws(SimulatorError) -> Double {
        let parts = text.split(separator: "/")
        let scale: Double
        switch parts.count == 2 ? String(parts[1]) : "s" {
        case "s": scale = 1
        case "m", "min": scale = 1.0 / 60
        case "h": scale = 1.0 / 3600
        default: throw .invalidOption(option: "--rate", value: text, detail: "expected N/s, N/m or N/h")
        }
        guard let first = parts.first, let n = Double(first), n >= 0, n.isFinite else {
            throw .invalidOption(option: "--rate", value: text, detail: "expected a non-negative number, like 2/s")
        }
        return n * scale
    }

    /// `5s`, `500ms`, `2m`, or a number of seconds.
    static func parseSeconds(_ text: String) throws(SimulatorError) -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v.isFinite { return v * scale }
        }
        guard let v = Double(text), v.isFinite else {
            throw .invalidOption(option: "--telemetry-interval", value: text, detail: "expected a duration like 5s or 1m")
        }
        return v
    }

    func describeFaults(_ plan: FaultPlan) -> String {
        let affected = plan.faults.filter { !$0.isEmpty }.count
        return faults.isEmpty ? "none" : "\(faults.joined(separator: " ")) on \(affected) devices"
    }

    func say(_ text: String) { FileHandle.standardError.write(Data("simulate: \(text)\n".utf8)) }
}
