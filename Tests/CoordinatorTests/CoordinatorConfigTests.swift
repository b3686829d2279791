import Coordinator
import FleetMQTT
import Foundation
import XCTest

final class CoordinatorConfigTests: XCTestCase {
    func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testResolvesFileWithSecretsAndDefaults() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coordcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = try write("0123456789abcdef0123\n", "alice.token", in: dir)
        let json = """
            {"dataDirectory":"data","brokerURL":"mqtt://127.0.0.1:1999","listen":"0.0.0.0:9000",
             "apiTokenFiles":{"alice":"\(token)"},"hardwareClassDirectory":"classes"}
            """
        let config = try CoordinatorConfigFile.load(URL(fileURLWithPath: try write(json, "c.json", in: dir)))
        XCTAssertEqual(config.broker.port, 1999)
        XCTAssertEqual(config.httpHost, "0.0.0.0")
        XCTAssertEqual(config.httpPort, 9000)
        XCTAssertEqual(config.apiTokens, ["alice": "0123456789abcdef0123"])
        XCTAssertEqual(config.dataDirectory.path, dir.appendingPathComponent("data").path)
        XCTAssertEqual(config.hardwareClassDirectory.path, dir.appendingPathComponent("classes").path)
        XCTAssertEqual(config.chunkSize, 256 << 10)
    }

    func testProtocolDefaultsTo5AndAccepts311AndAutoButNothingElse() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coordcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = try write(String(repeating: "t", count: 20), "t.token", in: dir)
        var file = CoordinatorConfigFile(dataDirectory: "d", brokerURL: "mqtt://127.0.0.1", apiTokenFiles: ["t": token])
        XCTAssertEqual(try file.resolve(relativeTo: dir).broker.mqttProtocol, .v5)
        for (text, expected) in [("5", BrokerProtocol.v5), ("3.1.1", .v311), ("auto", .auto)] {
            file.protocol = text
            XCTAssertEqual(try file.resolve(relativeTo: dir).broker.mqttProtocol, expected, text)
        }
        // The JSON key is "protocol".
        let json = #"{"dataDirectory":"d","brokerURL":"mqtt://127.0.0.1","protocol":"3.1.1","apiTokenFiles":{"t":"\#(token)"}}"#
        let loaded = try CoordinatorConfigFile.load(URL(fileURLWithPath: try write(json, "p.json", in: dir)))
        XCTAssertEqual(loaded.broker.mqttProtocol, .v311)
        for bad in ["3", "v5", "3.1", "MQTT5", ""] {
            file.protocol = bad
            XCTAssertThrowsError(try file.resolve(relativeTo: dir), bad) { error in
                XCTAssertTrue("\(error)".contains("'protocol'") && "\(error)".contains("\"3.1.1\""), "\(error)")
            }
        }
    }

    func testRefusesShortTokenAndBadListen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coordcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let short = try write("abc", "short.token", in: dir)
        var file = CoordinatorConfigFile(
            dataDirectory: "d", brokerURL: "mqtt://127.0.0.1", apiTokenFiles: ["bob": short])
        XCTAssertThrowsError(try file.resolve(relativeTo: dir)) { error in
            XCTAssertTrue("\(error)".contains("at least 16"), "\(error)")
        }
        file.apiTokenFiles = ["bob": try write(String(repeating: "x", count: 20), "long.token", in: dir)]
        file.listen = "nowhere"
        XCTAssertThrowsError(try file.resolve(relativeTo: dir)) { error in
            XCTAssertTrue("\(error)".contains("host:port"), "\(error)")
        }
        file.listen = nil
        file.brokerURL = "http://x"
        XCTAssertThrowsError(try file.resolve(relativeTo: dir)) { error in
            XCTAssertTrue("\(error)".contains("brokerURL"), "\(error)")
        }
    }
}
