import Foundation
import MQTTTestSupport
import XCTest

/// `flotilla ca …` and `flotilla device provision` through the built binary: the options reach
/// the library and its errors reach the operator with their fix.
final class ProvisionCommandTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["FLOTILLA_BIN"] { return URL(fileURLWithPath: path) }
        var directories: [URL] = []
        if let exe = Bundle.main.executableURL { directories.append(exe.deletingLastPathComponent()) }
        directories += [
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug"),
        ]
        for directory in directories {
            let candidate = directory.appendingPathComponent("flotilla")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ShippedBrokerError("flotilla binary not found in \(directories.map(\.path)); build it or set FLOTILLA_BIN")
    }

    func flotilla(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-provision-cli-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try ChildProcess.launch(process)
        process.waitForExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }

    func testCAInitIssueAndProvisionFromTheCommandLine() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-provision-cli-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let ca = scratch.appendingPathComponent("ca").path
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let key = scratch.appendingPathComponent("coordinator.pub.pem")
        try Data(ProvisioningTests.coordinatorPublicKeyPEM.utf8).write(to: key)
        let out = scratch.appendingPathComponent("bundles").path

        XCTAssertEqual(try flotilla(["ca", "init", "--dir", ca]).status, 0)
        let again = try flotilla(["ca", "init", "--dir", ca])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("refusing to overwrite"), again.output)

        let noKey = try flotilla(["device", "provision", "edge-1", "--class", "arm64-neon", "--ca-dir", ca, "--out", out])
        XCTAssertNotEqual(noKey.status, 0)
        XCTAssertTrue(noKey.output.contains("--coordinator-key"), noKey.output)
        let missing = try flotilla([
            "device", "provision", "edge-1", "--class", "arm64-neon", "--ca-dir", ca, "--out", out, "--coordinator-key", key.path,
        ])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("--broker"), missing.output)

        let server = try flotilla(["ca", "issue", "--ca-dir", ca, "--server", "mqtt.fleet.test", "--server", "10.1.2.3"])
        XCTAssertEqual(server.status, 0, server.output)
        XCTAssertTrue(server.output.contains("mqtts://mqtt.fleet.test:8883"), server.output)
        let coordinator = try flotilla(["ca", "issue", "--ca-dir", ca, "--client", "coordinator-1", "--out", scratch.path])
        XCTAssertEqual(coordinator.status, 0, coordinator.output)
        let notCoordinator = try flotilla(["ca", "issue", "--ca-dir", ca, "--client", "edge-7"])
        XCTAssertNotEqual(notCoordinator.status, 0)
        XCTAssertTrue(notCoordinator.output.contains("coordinator-"), notCoordinator.output)

        let provisioned = try flotilla([
            "device", "provision", "edge-1", "--class", "arm64-neon", "--ca-dir", ca, "--out", out, "--coordinator-key", key.path,
        ])
        XCTAssertEqual(provisioned.status, 0, provisioned.output)
        let config = try String(contentsOf: URL(fileURLWithPath: out + "/edge-1/device/etc/flotilla/agent.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"brokerURL\" : \"mqtts://mqtt.fleet.test:8883\""), config)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/edge-1.tar.gz"))
        XCTAssertTrue(
            try openssl(["verify", "-CAfile", ca + "/ca.crt", out + "/edge-1/device/etc/flotilla/edge-1.crt"]).contains("OK"))

        let duplicate = try flotilla([
            "device", "provision", "edge-1", "--class", "arm64-neon", "--ca-dir", ca, "--out", out, "--coordinator-key", key.path,
        ])
        XCTAssertNotEqual(duplicate.status, 0)
        XCTAssertTrue(duplicate.output.contains("provisioned before"), duplicate.output)
        let badClass = try flotilla([
            "device", "provision", "edge-2", "--class", "arm/neon", "--ca-dir", ca, "--out", out, "--coordinator-key", key.path,
        ])
        XCTAssertNotEqual(badClass.status, 0)
        XCTAssertTrue(badClass.output.contains("hardware class"), badClass.output)

        // Revocation: by file, then the same serial again (refused), a bad reason, a re-sign.
        let certificate = out + "/edge-1/device/etc/flotilla/edge-1.crt"
        let revoked = try flotilla(["ca", "revoke", "--ca-dir", ca, "--cert", certificate, "--reason", "cessationOfOperation"])
        XCTAssertEqual(revoked.status, 0, revoked.output)
        XCTAssertTrue(revoked.output.contains("(edge-1): cessationOfOperation"), revoked.output)
        let serial = try openssl(["x509", "-in", certificate, "-noout", "-serial"]).replacingOccurrences(of: "serial=", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let twice = try flotilla(["ca", "revoke", "--ca-dir", ca, "--serial", serial])
        XCTAssertNotEqual(twice.status, 0)
        XCTAssertTrue(twice.output.contains("revoked already"), twice.output)
        let badReason = try flotilla(["ca", "revoke", "--ca-dir", ca, "--serial", "01", "--reason", "bored"])
        XCTAssertNotEqual(badReason.status, 0)
        XCTAssertTrue(badReason.output.contains("keyCompromise"), badReason.output)
        let resigned = try flotilla(["ca", "crl", "--ca-dir", ca, "--days", "7"])
        XCTAssertEqual(resigned.status, 0, resigned.output)
        XCTAssertTrue(resigned.output.contains("1 revoked, next update in 7 days"), resigned.output)
        XCTAssertTrue(try openssl(["crl", "-in", ca + "/crl.pem", "-noout", "-text"]).contains("Cessation Of Operation"))
    }
}
