import Foundation
import TestSupport
import XCTest

/// deploy/install-agent.sh and deploy/install-coordinator.sh into a staged root (`--root`), with
/// dummy binaries: the tree and modes they make, idempotence, kept edits, refused bundles.
final class InstallScriptTests: XCTestCase {
    var work: URL?

    override func setUpWithError() throws {
        let work = try makeTemporaryDirectory("deploy-tests-install")
        self.work = work
        let bin = work.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for name in ["flotilla-agent", "flotilla-coordinator", "flotilla"] { try DeployCommand.writeDummyBinary(name, in: bin) }
    }

    override func tearDownWithError() throws {
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    func script(_ name: String) -> String { DeployCommand.repository.appendingPathComponent("deploy/\(name)").path }

    func makeRoot(_ name: String) throws -> URL {
        let root = try XCTUnwrap(work).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root
    }

    /// A bundle as `flotilla device provision` lays it out (see the script's header).
    func makeBundle(_ name: String, deviceID: String = "edge-0042") throws -> URL {
        let bundle = try XCTUnwrap(work).appendingPathComponent(name)
        let keys = bundle.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let config = """
            {"deviceId": "\(deviceID)", "brokerURL": "mqtts://broker.example.net:8883",
             "tls": {"caFile": "/etc/flotilla/ca.pem", "certFile": "/etc/flotilla/\(deviceID).crt", "keyFile": "/etc/flotilla/\(deviceID).key"},
             "dataDirectory": "/var/lib/flotilla-agent", "pinnedKeyFiles": ["/etc/flotilla/keys/coordinator-a.pub.pem"],
             "socketPath": "/run/flotilla-agent/infer.sock"}
            """
        try config.write(to: bundle.appendingPathComponent("agent.json"), atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n".write(
            to: bundle.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\ndevice\n-----END CERTIFICATE-----\n".write(
            to: bundle.appendingPathComponent("\(deviceID).crt"), atomically: true, encoding: .utf8)
        try "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n".write(
            to: bundle.appendingPathComponent("\(deviceID).key"), atomically: true, encoding: .utf8)
        try "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n".write(
            to: keys.appendingPathComponent("coordinator-a.pub.pem"), atomically: true, encoding: .utf8)
        return bundle
    }

    func installAgent(bundle: String, root: URL) throws -> DeployCommand {
        try DeployCommand.run(
            script("install-agent.sh"),
            ["--bundle", bundle, "--bin", try XCTUnwrap(work).appendingPathComponent("bin").path, "--root", root.path])
    }

    func installCoordinator(root: URL, extra: [String] = []) throws -> DeployCommand {
        try DeployCommand.run(
            script("install-coordinator.sh"),
            ["--bin", try XCTUnwrap(work).appendingPathComponent("bin").path, "--root", root.path] + extra)
    }

    func testAgentInstallMakesTheTreeAndASecondRunChangesNothing() throws {
        let root = try makeRoot("agent-root")
        let bundle = try makeBundle("bundle")
        let first = try installAgent(bundle: bundle.path, root: root)
        XCTAssertEqual(first.status, 0, first.output)
        let tree = try TreeSnapshot(root: root)
        XCTAssertEqual(tree.mode("etc/flotilla"), 0o750)
        XCTAssertEqual(tree.mode("etc/flotilla/agent.json"), 0o640)
        XCTAssertEqual(tree.mode("etc/flotilla/edge-0042.key"), 0o600)
        XCTAssertEqual(tree.mode("etc/flotilla/edge-0042.crt"), 0o644)
        XCTAssertEqual(tree.mode("etc/flotilla/ca.pem"), 0o644)
        XCTAssertEqual(tree.mode("etc/flotilla/keys/coordinator-a.pub.pem"), 0o644)
        XCTAssertEqual(tree.mode("usr/local/bin/flotilla-agent"), 0o755)
        XCTAssertEqual(tree.mode("var/lib/flotilla-agent"), 0o750)
        XCTAssertEqual(tree.mode("etc/systemd/system/flotilla-agent.service"), 0o644)
        XCTAssertEqual(
            tree.entries["etc/systemd/system/flotilla-agent.service"]?.content,
            try Data(contentsOf: DeployCommand.repository.appendingPathComponent("systemd/flotilla-agent.service")))
        XCTAssertEqual(
            tree.entries["etc/flotilla/agent.json"]?.content, try Data(contentsOf: bundle.appendingPathComponent("agent.json")))
        if DeployCommand.which("systemctl") != nil {
            XCTAssertNotNil(tree.entries["etc/systemd/system/multi-user.target.wants/flotilla-agent.service"], first.output)
        }
        XCTAssertFalse(first.output.contains("warning"), first.output)

        let second = try installAgent(bundle: bundle.path, root: root)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.stdout.contains("nothing to change"), second.output)
        XCTAssertEqual(try TreeSnapshot(root: root), tree)
    }

    func testAgentInstallKeepsAnEditedConfigAndExistingKeys() throws {
        let root = try makeRoot("agent-edited")
        let bundle = try makeBundle("bundle")
        XCTAssertEqual(try installAgent(bundle: bundle.path, root: root).status, 0)
        let config = root.appendingPathComponent("etc/flotilla/agent.json")
        let edited = Data("{\"deviceId\": \"edge-0042\", \"edited\": true}\n".utf8)
        try edited.write(to: config)
        // A newer bundle for the same device: new key material must not replace the installed one.
        try "-----BEGIN PRIVATE KEY-----\nother\n-----END PRIVATE KEY-----\n".write(
            to: bundle.appendingPathComponent("edge-0042.key"), atomically: true, encoding: .utf8)
        let keyBefore = try Data(contentsOf: root.appendingPathComponent("etc/flotilla/edge-0042.key"))

        let again = try installAgent(bundle: bundle.path, root: root)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertEqual(try Data(contentsOf: config), edited)
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("etc/flotilla/edge-0042.key")), keyBefore)
        XCTAssertTrue(again.stdout.contains("keeping /etc/flotilla/agent.json"), again.output)
        XCTAssertTrue(again.stdout.contains("keeping /etc/flotilla/edge-0042.key"), again.output)
    }

    func testAgentInstallFromATarballMatchesTheDirectoryInstall() throws {
        let bundle = try makeBundle("edge-0042")
        let tarball = try XCTUnwrap(work).appendingPathComponent("edge-0042.tar.gz")
        let tar = try DeployCommand.run("tar", ["-czf", tarball.path, "-C", try XCTUnwrap(work).path, "edge-0042"])
        XCTAssertEqual(tar.status, 0, tar.output)
        let fromDirectory = try makeRoot("from-dir"), fromTarball = try makeRoot("from-tar")
        XCTAssertEqual(try installAgent(bundle: bundle.path, root: fromDirectory).status, 0)
        let result = try installAgent(bundle: tarball.path, root: fromTarball)
        XCTAssertEqual(result.status, 0, result.output)
        var a = try TreeSnapshot(root: fromDirectory), b = try TreeSnapshot(root: fromTarball)
        // systemctl's enable symlink names the root it was made in.
        let link = "etc/systemd/system/multi-user.target.wants/flotilla-agent.service"
        a.entries[link] = nil
        b.entries[link] = nil
        XCTAssertEqual(a, b)
    }

    func testBadBundlesAreRefusedBeforeAnythingIsWritten() throws {
        let cases: [(String, (URL) throws -> Void, String)] = [
            ("no agent.json", { try FileManager.default.removeItem(at: $0.appendingPathComponent("agent.json")) }, "has no agent.json"),
            (
                "not JSON",
                {
                    try "{\"deviceId\": \"edge-0042\",".write(
                        to: $0.appendingPathComponent("agent.json"), atomically: true, encoding: .utf8)
                },
                "agent.json is not valid JSON"
            ),
            (
                "key without certificate", { try FileManager.default.removeItem(at: $0.appendingPathComponent("edge-0042.crt")) },
                "has only one of edge-0042.crt and edge-0042.key"
            ),
            ("no pinned key", { try FileManager.default.removeItem(at: $0.appendingPathComponent("keys")) }, "no coordinator public key"),
            (
                "device id with a slash",
                { try "{\"deviceId\": \"../etc\"}".write(to: $0.appendingPathComponent("agent.json"), atomically: true, encoding: .utf8) },
                "cannot name files"
            ),
        ]
        for (index, (label, damage, message)) in cases.enumerated() {
            let bundle = try makeBundle("bad-\(index)")
            try damage(bundle)
            let root = try makeRoot("bad-root-\(index)")
            let result = try installAgent(bundle: bundle.path, root: root)
            XCTAssertEqual(result.status, 2, "\(label): \(result.output)")
            XCTAssertTrue(result.stderr.contains(message), "\(label): \(result.output)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), [], "\(label) wrote into the root")
        }
        let missing = try installAgent(bundle: "/nonexistent/bundle", root: try makeRoot("bad-missing"))
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("does not exist"), missing.output)
        let garbage = try XCTUnwrap(work).appendingPathComponent("garbage.tar.gz")
        try Data([1, 2, 3, 4]).write(to: garbage)
        let unreadable = try installAgent(bundle: garbage.path, root: try makeRoot("bad-garbage"))
        XCTAssertEqual(unreadable.status, 2)
        XCTAssertTrue(unreadable.stderr.contains("neither a directory nor a readable tar archive"), unreadable.output)
    }

    func testCoordinatorInstallMakesTheTreeAndASecondRunChangesNothing() throws {
        let root = try makeRoot("coordinator-root")
        let first = try installCoordinator(root: root)
        XCTAssertEqual(first.status, 0, first.output)
        let tree = try TreeSnapshot(root: root)
        XCTAssertEqual(tree.mode("etc/flotilla"), 0o750)
        XCTAssertEqual(tree.mode("etc/flotilla/tokens"), 0o750)
        XCTAssertEqual(tree.mode("etc/flotilla/coordinator.json"), 0o640)
        XCTAssertEqual(tree.mode("var/lib/flotilla-coordinator"), 0o700)
        XCTAssertEqual(tree.mode("usr/local/bin/flotilla-coordinator"), 0o755)
        XCTAssertEqual(tree.mode("usr/local/bin/flotilla"), 0o755)
        XCTAssertEqual(
            tree.entries["etc/flotilla/coordinator.json"]?.content,
            try Data(contentsOf: DeployCommand.repository.appendingPathComponent("deploy/coordinator.example.json")))
        // The example names alice's token file: made once, 64 hex digits.
        XCTAssertEqual(tree.mode("etc/flotilla/tokens/alice"), 0o640)
        let token = String(decoding: tree.entries["etc/flotilla/tokens/alice"]?.content ?? Data(), as: UTF8.self)
        XCTAssertEqual(token.trimmingCharacters(in: .whitespacesAndNewlines).count, 64, token)
        let profiles = try FileManager.default.contentsOfDirectory(
            atPath: DeployCommand.repository.appendingPathComponent("deploy/hardware-classes").path)
        for profile in profiles { XCTAssertEqual(tree.mode("usr/share/flotilla/hardware-classes/\(profile)"), 0o644, profile) }

        let second = try installCoordinator(root: root)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.stdout.contains("nothing to change"), second.output)
        XCTAssertEqual(try TreeSnapshot(root: root), tree)
    }

    func testCoordinatorInstallTightensAPlacedKeyAndRefusesABadConfig() throws {
        let root = try makeRoot("coordinator-key")
        XCTAssertEqual(try installCoordinator(root: root).status, 0)
        let key = root.appendingPathComponent("etc/flotilla/coordinator.key")
        try Data("key".utf8).write(to: key)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key.path)
        let again = try installCoordinator(root: root)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertEqual(try TreeSnapshot(root: root).mode("etc/flotilla/coordinator.key"), 0o600)

        let bad = try XCTUnwrap(work).appendingPathComponent("bad.json")
        try Data("{\"brokerURL\": \"mqtt://x\"}".utf8).write(to: bad)
        let refused = try installCoordinator(root: try makeRoot("coordinator-bad"), extra: ["--config", bad.path])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("has no \"dataDirectory\""), refused.output)
    }
}
