import Coordinator
import FleetProtocol
import XCTest

final class IngestDeviceMessageTests: XCTestCase {
    func telemetry(device: String, accuracy: Double? = 0.9) -> TelemetrySummary {
        var h = LatencyHistogram()
        h.record(1500)
        return TelemetrySummary(
            deviceID: device, sequence: 3, windowStartMs: 1000, windowEndMs: 2000, artifactDigest: nil, releaseSequence: nil,
            state: "committed", latencyUs: h, inferences: 1, errors: 0, validationAccuracy: accuracy, validationAgreement: nil,
            rssBytes: 1 << 20)
    }

    func testDecodesEachKindByTopic() throws {
        let t = telemetry(device: "dev-1")
        let topic = try Topics.device("dev-1", .telemetry)
        XCTAssertEqual(try DeviceMessageDecoder.decode(topic: topic, payload: MessageEnvelope.encode(t)), .telemetry(t))
        let online = OnlineStatus(deviceID: "dev-1", online: true, connectionSequence: 4, hardwareClass: "x86_64-avx2", atMs: 5)
        XCTAssertEqual(
            try DeviceMessageDecoder.decode(topic: try Topics.device("dev-1", .online), payload: MessageEnvelope.encode(online)),
            .online(online))
        XCTAssertEqual(
            try DeviceMessageDecoder.decode(topic: try Topics.device("dev-1", .state), payload: []),
            .cleared(deviceID: "dev-1", kind: .state))
    }

    func testRefusals() throws {
        let t = telemetry(device: "dev-2")
        func reason(_ topic: String, _ payload: [UInt8]) -> IngestError.Reason? {
            do {
                _ = try DeviceMessageDecoder.decode(topic: topic, payload: payload)
                return nil
            } catch { return error.reason }
        }
        let topic = try Topics.device("dev-1", .telemetry)
        XCTAssertEqual(reason(topic, MessageEnvelope.encode(t)), .wrongDevice)
        XCTAssertEqual(reason(topic, Array("{not json".utf8)), .malformed)
        XCTAssertEqual(reason(topic, Array(#"{"v":"1.0","type":"telemetry","body":{"deviceID":7}}"#.utf8)), .malformed)
        XCTAssertEqual(reason(topic, Array(#"{"v":"9.0","type":"telemetry","body":{}}"#.utf8)), .malformed)
        // The right type on the wrong topic.
        XCTAssertEqual(reason(try Topics.device("dev-2", .state), MessageEnvelope.encode(t)), .malformed)
        XCTAssertEqual(reason("flotilla/v2/devices/dev-1/telemetry", MessageEnvelope.encode(t)), .badTopic)
        XCTAssertEqual(reason("flotilla/v1/devices/dev+1/telemetry", []), .badTopic)
        XCTAssertEqual(reason(try Topics.device("dev-1", .desired), [1]), .notADeviceTopic)
        XCTAssertEqual(
            reason(try Topics.device("dev-1", .telemetry), MessageEnvelope.encode(telemetry(device: "dev-1", accuracy: 7))), .malformed)
        var caught: IngestError?
        do { _ = try DeviceMessageDecoder.decode(topic: topic, payload: MessageEnvelope.encode(t)) } catch { caught = error }
        let error = try XCTUnwrap(caught)
        XCTAssertTrue(error.description.contains("dev-2") && error.description.contains("dev-1"), error.description)
    }
}
