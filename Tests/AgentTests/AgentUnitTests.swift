import FleetMQTT
import FleetProtocol
import Foundation
import ModelIR
import XCTest

@testable import Agent

/// Config validation, hardware class, the socket protocol and the outbox, without a broker.
final class AgentUnitTests: XCTestCase {
    func testBrokerURLParsing() throws {
        let plain = try BrokerConfig.parse(url: "mqtt://broker.local")
        XCTAssertEqual(plain.host, "broker.local")
        XCTAssertEqual(plain.port, 1883)
        XCTAssertFalse(plain.tls)
        let tls = try BrokerConfig.parse(url: "mqtts://10.0.0.2:9883")
        XCTAssertEqual(tls.port, 9883)
        XCTAssertTrue(tls.tls)
        XCTAssertThrowsError(try BrokerConfig.parse(url: "http://x:1")) { error in
            XCTAssertTrue("\(error)".contains("scheme 'http'"), "\(error)")
        }
    }

    func testConfigRefusesBadValuesWithTheField() throws {
        let dir = FileManager.default.temporaryDirectory
        let key = AgentFixtures.signingKey.publicKey
        let broker = BrokerConfig(host: "h", port: 1883)
        XCTAssertThrowsError(
            try AgentConfig(deviceID: "a/b", broker: broker, dataDirectory: dir, hardwareClass: "x86_64-avx2", pinnedKeys: [key])
        ) {
            XCTAssertTrue("\($0)".contains("deviceId"), "\($0)")
        }
        XCTAssertThrowsError(
            try AgentConfig(deviceID: "d", broker: broker, dataDirectory: dir, hardwareClass: "x86_64-avx2", pinnedKeys: [])
        ) {
            XCTAssertTrue("\($0)".contains("pinnedKeys"), "\($0)")
        }
        let tls = BrokerConfig(host: "h", port: 8883, useTLS: true, caFile: "/nonexistent/ca.pem")
        XCTAssertThrowsError(
            try AgentConfig(deviceID: "d", broker: tls, dataDirectory: dir, hardwareClass: "x86_64-avx2", pinnedKeys: [key])
        ) {
            XCTAssertTrue("\($0)".contains("/nonexistent/ca.pem"), "\($0)")
        }
        XCTAssertNoThrow(
            try AgentConfig(deviceID: "d", broker: broker, dataDirectory: dir, hardwareClass: "x86_64-avx2", pinnedKeys: [key]))
    }

    func testConfigFileProtocolDefaultsTo5AndRefusesUnknownVersions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("agentcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("coordinator.pub.pem")
        try AgentFixtures.signingKey.publicKey.pemRepresentation.write(to: keyFile, atomically: true, encoding: .utf8)
        func load(_ protocolField: String) throws -> AgentConfig {
            let json = """
                {"deviceId":"edge-1","brokerURL":"mqtt://127.0.0.1:1883",\(protocolField)"dataDirectory":"\(dir.path)/data",
                 "hardwareClass":"x86_64-avx2","pinnedKeyFiles":["\(keyFile.path)"]}
                """
            let url = dir.appendingPathComponent("agent.json")
            try json.write(to: url, atomically: true, encoding: .utf8)
            return try AgentConfigFile.load(url)
        }
        XCTAssertEqual(try load("").broker.mqttProtocol, .v5)
        XCTAssertEqual(try load(#""protocol":"3.1.1","#).broker.mqttProtocol, .v311)
        XCTAssertEqual(try load(#""protocol":"auto","#).broker.mqttProtocol, .auto)
        XCTAssertThrowsError(try load(#""protocol":"4","#)) { error in
            XCTAssertTrue("\(error)".contains("protocol") && "\(error)".contains("\"auto\""), "\(error)")
        }
    }

    func testHardwareClassPrefersTheBestInt8Path() {
        XCTAssertEqual(HardwareClass.detect(avx512vnni: true, avx2: true, dotprod: false, neon: false), "x86_64-avx512-vnni")
        XCTAssertEqual(HardwareClass.detect(avx512vnni: false, avx2: true, dotprod: false, neon: false), "x86_64-avx2")
        XCTAssertEqual(HardwareClass.detect(avx512vnni: false, avx2: false, dotprod: true, neon: true), "arm64-dotprod")
        XCTAssertEqual(HardwareClass.detect(avx512vnni: false, avx2: false, dotprod: false, neon: true), "arm64-neon")
        XCTAssertNil(HardwareClass.detect(avx512vnni: false, avx2: false, dotprod: false, neon: false))
    }

    func testInferenceWireRoundTripAndRefusals() throws {
        let tensors = ["x": try Tensor(floats: [1, -2.5, 3, 0], shape: [1, 4]), "mask": try Tensor(int64s: [7], shape: [1])]
        let bytes = try InferenceWire.encodeTensors(tensors)
        XCTAssertEqual(try InferenceWire.decodeTensors(bytes), tensors)
        XCTAssertThrowsError(try InferenceWire.decodeTensors(Array(bytes.dropLast(3))))
        XCTAssertThrowsError(try InferenceWire.decodeTensors(bytes + [0]))
        XCTAssertThrowsError(try InferenceWire.decodeTensors([0xFF, 0xFF, 0xFF, 0xFF]))
    }

    func testOutboxKeepsUnacknowledgedEventsInOrder() throws {
        let dir = try AgentFixtures.temporaryDirectory("outbox")
        let outbox = EventOutbox(path: dir.appendingPathComponent("outbox.jsonl").path)
        for i in 1...3 { try outbox.append(DeviceEvent(deviceID: "d", sequence: UInt64(i), atMs: 0, kind: .installed)) }
        XCTAssertEqual(outbox.pending().map(\.sequence), [1, 2, 3])
        try outbox.acknowledgeOne()
        XCTAssertEqual(outbox.pending().map(\.sequence), [2, 3])
        // A torn last line (crash mid-append) is dropped, the rest survives.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outbox.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"v\":\"1.0\",\"ty".utf8))
        try handle.close()
        XCTAssertEqual(outbox.pending().map(\.sequence), [2, 3])
    }
}
