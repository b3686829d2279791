import Agent
import FleetMQTT
import FleetSimulator
import MQTTTestSupport
import XCTest

/// A fresh Mosquitto and a coordinator stand-in on it for every test; the simulator a test
/// starts with `makeSimulator` is stopped after it, before the stand-in and the broker.
class SimulatorBrokerTestCase: XCTestCase {
    var broker: MosquittoBroker?
    var coordinator: CoordinatorStandIn?
    var simulator: Simulator?

    override func setUp() async throws {
        let broker = try await MosquittoBroker.start()
        self.broker = broker
        coordinator = try await CoordinatorStandIn(port: broker.port)
    }

    override func tearDown() async throws {
        await simulator?.stop()
        await coordinator?.close()
        try await broker?.stop()
    }

    /// A started simulator of `devices` agents (`classes` as `--classes` takes it) on this test's
    /// broker, pinned to the fixtures' signing key.
    func makeSimulator(
        devices: Int, classes: String, faults: [SimulatedFault] = [], rate: Double = 0, name: String, stallTimeoutMs: Int64 = 2000
    ) async throws -> Simulator {
        let broker = try XCTUnwrap(broker)
        let config = try SimulatorConfig(
            deviceCount: devices, classMix: try ClassMix.parse(classes), dataRoot: try SimulatorFixtures.temporaryDirectory(name),
            broker: BrokerConfig(host: "127.0.0.1", port: broker.port), pinnedKeys: [SimulatorFixtures.signingKey.publicKey],
            inferenceRate: rate, telemetryIntervalSeconds: 1, faults: faults, seed: 3, connectsPerSecond: 500,
            thresholds: ValidationThresholds(latencyRuns: 20), stallTimeoutMs: stallTimeoutMs)
        let simulator = Simulator(config: config)
        self.simulator = simulator
        try await simulator.start()
        return simulator
    }

    /// Pushes `releases[class]` to every device of that class as desired-state `sequence`.
    func rollOut(_ simulator: Simulator, sequence: UInt64, releases: [String: SimulatorFixtures.Release]) async throws {
        let c = try XCTUnwrap(coordinator)
        for d in await simulator.devices {
            let release = try XCTUnwrap(releases[d.hardwareClass])
            try await c.publishDesired(deviceID: d.deviceID, sequence: sequence, release: release)
        }
    }
}
