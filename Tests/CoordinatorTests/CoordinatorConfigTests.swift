import Coordinator
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
