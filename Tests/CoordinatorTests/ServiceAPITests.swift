import Coordinator
import FleetMQTT
import FleetProtocol
import Foundation
import MQTT
import XCTest

/// The operator API over HTTP on the real service: tokens, a model added and built from
/// uploads, malformed device messages dropped without harm.
final class ServiceAPITests: XCTestCase {
    var harness: ServiceHarness?
    var server: APIServer?

    override func tearDown() async throws {
        await server?.stop()
        await harness?.shutdown()
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    func start() async throws -> (ServiceHarness, URL) {
        let h = try await ServiceHarness()
        harness = h
        let service = try await h.startCoordinator()
        let server = APIServer(config: APIServerConfig(try h.config()), operations: service)
        self.server = server
        let port = try await server.start()
        return (h, try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)")))
    }

    func testRequestsWithoutAValidTokenAreRefused() async throws {
        let (_, url) = try await start()
        for token in ["", "wrong-token-0123456789"] {
            do {
                _ = try await CoordinatorClient(baseURL: url, token: token).listDevices()
                XCTFail("token '\(token)' was accepted")
            } catch {
                XCTAssertTrue("\(error)".contains("401") || "\(error)".lowercased().contains("unauthorized"), "\(error)")
            }
        }
        let devices = try await CoordinatorClient(baseURL: url, token: "alice-token-0123456789").listDevices()
        XCTAssertEqual(devices, [])
    }

    func testMalformedTelemetryIsDroppedAndCountedAndTheRegistryGoesOn() async throws {
        let (h, url) = try await start()
        let raw = try MQTTTransport(configuration: MQTTConfiguration(host: "127.0.0.1", port: h.broker.port, clientID: "garbage"))
        try await raw.connect()
        let topic = try Topics.device("dev-x", .telemetry)
        for payload in [Array("{not json".utf8), [0xFF, 0x00, 0x13], Array(#"{"v":"1.0","type":"telemetry","body":{"deviceID":7}}"#.utf8)] {
            try await raw.publish(topic: topic, payload: payload, qos: .atLeastOnce, retain: false)
        }
        // A device speaking for another is refused too.
        let spoof = OnlineStatus(deviceID: "victim", online: false, connectionSequence: 99, hardwareClass: "x86_64-avx2", atMs: 1)
        try await raw.publish(
            topic: try Topics.device("dev-x", .online), payload: MessageEnvelope.encode(spoof), qos: .atLeastOnce, retain: false)
        try await h.startAgent("dev-ok", hardwareClass: "x86_64-avx2")
        let client = CoordinatorClient(baseURL: url, token: "alice-token-0123456789")
        let seen = try await h.eventually(30) { try await client.listDevices().map(\.id) == ["dev-ok"] }
        XCTAssertTrue(seen, "registry: \(h.snapshot())")
        let metrics = try await client.metrics()
        XCTAssertTrue(metrics.contains(#"flotilla_coordinator_messages_dropped_total{reason="malformed"} 3"#), metrics)
        XCTAssertTrue(metrics.contains(#"flotilla_coordinator_messages_dropped_total{reason="wrongDevice"} 1"#), metrics)
        XCTAssertNil(try h.store().device("victim"))
        await raw.disconnect()
    }

    func testModelAddUploadsBuildsAndShowsTheReport() async throws {
        let (_, url) = try await start()
        let client = CoordinatorClient(baseURL: url, token: "alice-token-0123456789")
        let digits = Self.fixtures.appendingPathComponent("digits")
        let model = try await client.upload(file: Self.fixtures.appendingPathComponent("digits_cnn.onnx"), kind: .model)
        let calibration = try await client.upload(file: digits.appendingPathComponent("calibration_x.npy"), kind: .calibration)
        let eval = try await client.upload(file: digits.appendingPathComponent("test_x.npy"), kind: .eval)
        let labels = try await client.upload(file: digits.appendingPathComponent("test_y.npy"), kind: .labels)
        let added = try await client.addRelease(
            APIAddReleaseRequest(
                name: "digits", version: "1.0", modelUpload: model.id, calibrationUpload: calibration.id, evalUpload: eval.id,
                labelsUpload: labels.id, budget: 1, classes: ["x86_64-avx2"]))
        XCTAssertEqual(added.status, .building)
        XCTAssertEqual(added.releaseSequence, 1)
        var shown = added
        let built = try await harness?.eventually(300) {
            shown = try await client.release(name: "digits", version: "1.0")
            return shown.status != .building
        }
        XCTAssertEqual(built, true)
        XCTAssertEqual(shown.status, .ready, shown.error ?? "")
        let variant = try XCTUnwrap(shown.variants.first)
        XCTAssertEqual(variant.hardwareClass, "x86_64-avx2")
        XCTAssertEqual(variant.artifactDigest?.count, 64)
        XCTAssertGreaterThan(variant.metrics["accuracy"] ?? 0, 0.9)
        // The documented summary figures (model show's columns) are those on the whole eval set.
        XCTAssertEqual(variant.metrics["int8Accuracy"], variant.metrics["eval_int8_accuracy"])
        XCTAssertEqual(variant.metrics["fp32Accuracy"], variant.metrics["eval_fp32_accuracy"])
        XCTAssertEqual(variant.metrics["agreement"], variant.metrics["eval_agreement"])
        XCTAssertEqual(try XCTUnwrap(variant.metrics["fp32Accuracy"]), 0.9925, accuracy: 1e-9, "397 of 400 (docs/fixtures.md)")
        let row = APIText.release(shown).split(separator: "\n").first { $0.hasPrefix("  x86_64-avx2") && $0.contains("ready") }
        XCTAssertTrue(row?.contains("0.9925") == true, "fp32 accuracy column: \(row ?? "no row")")
        XCTAssertTrue((variant.report ?? "").contains("x86_64-avx2"), variant.report ?? "")
        // Releases are immutable.
        do {
            _ = try await client.addRelease(
                APIAddReleaseRequest(
                    name: "digits", version: "1.0", modelUpload: model.id, calibrationUpload: nil, evalUpload: eval.id,
                    labelsUpload: labels.id,
                    budget: 1, classes: ["x86_64-avx2"]))
            XCTFail("a second 1.0 was accepted")
        } catch { XCTAssertTrue("\(error)".contains("409") || "\(error)".contains("immutable"), "\(error)") }
        let audit = try await client.auditLog()
        XCTAssertTrue(audit.contains { $0.actor == "alice" && $0.action == "release.add" })
    }
}
