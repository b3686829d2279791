import Coordinator
import Foundation
import MQTTTestSupport
import XCTest

/// The `flotilla` fleet commands against a live coordinator (API over HTTP, real agents over
/// Mosquitto).
final class ServiceCLITests: XCTestCase {
    var harness: ServiceHarness?
    var server: APIServer?

    override func tearDown() async throws {
        await server?.stop()
        await harness?.shutdown()
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func binary() throws -> URL {
        let candidates =
            [Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL]
            + (Bundle.main.executableURL.map { [$0.deletingLastPathComponent()] } ?? [])
        for d in candidates where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("flotilla").path) {
            return d.appendingPathComponent("flotilla")
        }
        throw XCTSkip("the flotilla binary is not beside the tests in \(candidates.map(\.path)); run `swift build --build-tests`")
    }

    func flotilla(_ args: [String], coordinator: URL, token: String = "alice-token-0123456789") throws -> Run {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = try Self.binary()
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["FLOTILLA_COORDINATOR"] = coordinator.absoluteString
        env["FLOTILLA_TOKEN"] = token
        p.environment = env
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitForExit()
        return Run(
            status: p.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    func testRolloutFromTheCommandLine() async throws {
        let h = try await ServiceHarness()
        harness = h
        let service = try await h.startCoordinator()
        let server = APIServer(config: APIServerConfig(try h.config()), operations: service)
        self.server = server
        let port = try await server.start()
        let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)"))
        for i in 0..<2 { try await h.startAgent("x86-\(i)", hardwareClass: "x86_64-avx2") }
        let seen = try await h.eventually(30) { try h.store().devices().count == 2 }
        XCTAssertTrue(seen)
        _ = try h.addRelease(version: "1")

        let refused = try flotilla(["devices"], coordinator: url, token: "not-the-token-at-all")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("401") || refused.stderr.lowercased().contains("token"), refused.stderr)

        let dry = try flotilla(["rollout", "start", "digits", "1", "--target", "", "--waves", "50%,100%", "--dry-run"], coordinator: url)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("x86-0") || dry.stdout.contains("x86-1"), dry.stdout)

        let start = try flotilla(
            ["rollout", "start", "digits", "1", "--target", "class=x86_64-avx2", "--waves", "50%,100%", "--soak", "1s", "--json"],
            coordinator: url)
        XCTAssertEqual(start.status, 0, start.stderr)
        let started = try JSONDecoder().decode(APIRollout.self, from: Data(start.stdout.utf8))
        let watched = try flotilla(["rollout", "status", started.id, "--watch"], coordinator: url)
        XCTAssertEqual(watched.status, 0, watched.stderr)
        XCTAssertTrue(watched.stdout.contains("completed"), watched.stdout)
        XCTAssertTrue(watched.stdout.contains("x86_64-avx2"), watched.stdout)

        let devices = try flotilla(["devices", "--json"], coordinator: url)
        XCTAssertEqual(devices.status, 0, devices.stderr)
        let list = try JSONDecoder().decode([APIDevice].self, from: Data(devices.stdout.utf8))
        XCTAssertEqual(list.map { $0.running?.modelVersion }, ["1", "1"])
        let labelled = try flotilla(["devices", "label", "x86-0", "site=lab"], coordinator: url)
        XCTAssertEqual(labelled.status, 0, labelled.stderr)
        let audit = try flotilla(["audit"], coordinator: url)
        XCTAssertTrue(audit.stdout.contains("rollout.start") && audit.stdout.contains("device.labels"), audit.stdout)
        let models = try flotilla(["model", "list"], coordinator: url)
        XCTAssertTrue(models.stdout.contains("digits"), models.stdout)
    }
}
