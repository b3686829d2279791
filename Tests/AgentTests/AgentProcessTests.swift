import Agent
import FleetProtocol
import Foundation
import MQTTTestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The real `flotilla-agent` process, killed with SIGKILL in the middle of an install (held there
/// by the test-only pause point, `TestPause`).
final class AgentProcessTests: XCTestCase {
    var broker: MosquittoBroker?
    var coordinator: TestCoordinator?
    var processes: [Process] = []

    override func setUp() async throws {
        let broker = try await MosquittoBroker.start()
        self.broker = broker
        coordinator = try await TestCoordinator(port: broker.port)
    }

    override func tearDown() async throws {
        for p in processes where p.isRunning {
            kill(p.processIdentifier, SIGTERM)
            p.waitForExit()
        }
        await coordinator?.close()
        try await broker?.stop()
    }

    /// Next to the test bundle, like the other executables of the build (AgentTests depends on
    /// flotilla-agent so it is built first); `FLOTILLA_AGENT_BIN` overrides.
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["FLOTILLA_AGENT_BIN"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var directories = [
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(), root.appendingPathComponent(".build/debug"),
        ]
        if let exe = Bundle.main.executableURL { directories.insert(exe.deletingLastPathComponent(), at: 0) }
        for d in directories where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("flotilla-agent").path) {
            return d.appendingPathComponent("flotilla-agent")
        }
        throw XCTSkip("flotilla-agent not found in \(directories.map(\.path)); build it or set FLOTILLA_AGENT_BIN")
    }

    func launch(config: URL, log: URL, environment extra: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = try Self.binary()
        p.arguments = ["run", "--config", config.path]
        var environment = ProcessInfo.processInfo.environment
        environment[TestPause.environmentVariable] = nil
        environment.merge(extra) { $1 }
        p.environment = environment
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        p.standardError = handle
        p.standardOutput = handle
        try p.run()
        processes.append(p)
        return p
    }

    func writeConfig(in dir: URL, port: Int) throws -> URL {
        let key = dir.appendingPathComponent("coordinator.pub.pem")
        try AgentFixtures.signingKey.publicKey.pemRepresentation.write(to: key, atomically: true, encoding: .utf8)
        let data = dir.appendingPathComponent("data")
        let json: [String: Any] = [
            "deviceId": "dev-1", "brokerURL": "mqtt://127.0.0.1:\(port)", "dataDirectory": data.path,
            "hardwareClass": AgentFixtures.hardwareClass, "pinnedKeyFiles": [key.path],
            "telemetryIntervalSeconds": 1, "stallTimeoutSeconds": 1,
        ]
        let url = dir.appendingPathComponent("agent.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url
    }

    func testSIGKILLDuringInstallLeavesTheOldModelAndRedoesTheInstall() async throws {
        let c = try XCTUnwrap(coordinator), broker = try XCTUnwrap(broker)
        let dir = try AgentFixtures.temporaryDirectory("sigkill")
        let config = try writeConfig(in: dir, port: broker.port)
        let data = dir.appendingPathComponent("data")
        let log = dir.appendingPathComponent("agent.log")
        let first = try launch(config: config, log: log)
        let small = try AgentFixtures.release(sequence: 1)
        try await c.publishDesired(sequence: 1, release: small)
        let committed = await AgentFixtures.eventually {
            c.lastState?.running?.releaseSequence == 1 && c.lastState?.running?.status == .committed
        }
        XCTAssertTrue(committed, "log: \(Self.text(log))")
        let oldSlot = try XCTUnwrap(c.lastState?.running?.slot)
        kill(first.processIdentifier, SIGTERM)
        first.waitForExit()

        // The same agent again, told to hold right after it persisted `installing` (before it
        // touches the slot): the window is open until the test kills it, no race.
        let marker = TestPause.markerPath(dataDirectory: data, phase: .installing)
        let paused = try launch(config: config, log: log, environment: [TestPause.environmentVariable: "installing"])
        let big = try AgentFixtures.release(sequence: 2, samples: 1, seed: 11, features: 256, classes: 128, chunkSize: 16 << 10)
        try await c.publishDesired(sequence: 2, release: big)
        let statePath = data.appendingPathComponent("state.json").path
        let held = await AgentFixtures.eventually(60) { FileManager.default.fileExists(atPath: marker) || !paused.isRunning }
        kill(paused.processIdentifier, SIGKILL)
        paused.waitForExit()
        XCTAssertTrue(
            held && FileManager.default.fileExists(atPath: marker), "the agent never reached the pause point; log: \(Self.text(log))")
        XCTAssertEqual(paused.terminationReason, .uncaughtSignal)
        XCTAssertEqual(paused.terminationStatus, SIGKILL)
        XCTAssertEqual(Self.phase(FileManager.default.contents(atPath: statePath) ?? Data()), "installing")
        unlink(marker)
        // What a kill in the middle of the decompression leaves in the target slot: a truncated
        // temporary and a truncated model (the pause holds before the slot is touched, so the
        // test lays them down itself). The restart must never load either.
        let target = data.appendingPathComponent("slots/\(oldSlot.other.rawValue)")
        try Data(big.artifact.prefix(1000)).write(to: target.appendingPathComponent("model.flt.unpacking-99999"))
        try Data(big.artifact.prefix(2000)).write(to: target.appendingPathComponent("model.flt"))

        c.recorded.withLock { $0.states = [] }
        _ = try launch(config: config, log: log)
        // On restart the old model serves while the install is redone from the kept download.
        let reported = await AgentFixtures.eventually { c.lastState != nil }
        XCTAssertTrue(reported)
        let firstReport = try XCTUnwrap(c.recorded.withLock { $0.states.min { $0.sequence < $1.sequence } })
        XCTAssertEqual(firstReport.running?.releaseSequence, 1, "the old model runs after the crash")
        XCTAssertEqual(firstReport.running?.status, .committed)
        let done = await AgentFixtures.eventually(120) {
            c.lastState?.running?.releaseSequence == 2 && c.lastState?.running?.status == .committed
        }
        XCTAssertTrue(done, "events: \(c.events.map(\.kind)); log: \(Self.text(log))")
        let newSlot = try XCTUnwrap(c.lastState?.running?.slot)
        XCTAssertEqual(newSlot, oldSlot.other)
        // Exactly the two artifacts in the slots, nothing half-written beside them.
        let slots = data.appendingPathComponent("slots")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: slots.appendingPathComponent(newSlot.rawValue).path), ["model.flt"])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: slots.appendingPathComponent(oldSlot.rawValue).path), ["model.flt"])
        XCTAssertEqual(Array(try Data(contentsOf: slots.appendingPathComponent("\(newSlot.rawValue)/model.flt"))), big.artifact)
        XCTAssertEqual(Array(try Data(contentsOf: slots.appendingPathComponent("\(oldSlot.rawValue)/model.flt"))), small.artifact)
        XCTAssertEqual(try String(contentsOf: data.appendingPathComponent("current"), encoding: .utf8), newSlot.rawValue)
        XCTAssertEqual(c.events.filter { $0.kind == .installed && $0.releaseSequence == 2 }.count, 1)
    }

    /// The phase name in a persisted state.json (`{"phase":{"installing":{...}}, ...}`).
    static func phase(_ bytes: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else { return nil }
        if let phase = object["phase"] as? [String: Any] { return phase.keys.first }
        return object["phase"] as? String
    }

    static func text(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)).map { String($0.suffix(4000)) } ?? "" }
}
