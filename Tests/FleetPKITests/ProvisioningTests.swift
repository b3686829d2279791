import Agent
import FleetPKI
import Foundation
import MQTTTestSupport
import XCTest

/// `flotilla ca init` / `device provision` as library calls: files, modes, the agent config,
/// the certificate chain (checked by the openssl CLI, an independent X.509 implementation) and
/// the errors for bad input.
final class ProvisioningTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-pki-\(UUID().uuidString.prefix(8))")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func mode(_ url: URL) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
    }

    func testCAInitWritesAPrivateKeyAndRefusesToOverwrite() throws {
        let dir = scratch.appendingPathComponent("ca")
        let ca = try CertificateAuthority.create(in: dir, commonName: "Test Fleet CA")
        XCTAssertEqual(try mode(ca.keyFile), 0o600)
        XCTAssertEqual(try mode(ca.certificateFile), 0o644)
        XCTAssertEqual(try mode(dir), 0o700)
        let keyBefore = try Data(contentsOf: ca.keyFile)
        XCTAssertThrowsError(try CertificateAuthority.create(in: dir)) { error in
            guard case PKIError.alreadyExists(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, ca.keyFile.path)
        }
        XCTAssertEqual(try Data(contentsOf: ca.keyFile), keyBefore, "the CA key was overwritten")
        let loaded = try CertificateAuthority.load(from: dir)
        XCTAssertEqual(loaded.certificatePEM, ca.certificatePEM)
        XCTAssertEqual(loaded.commonName, "Test Fleet CA")

        let text = try openssl(["x509", "-in", ca.certificateFile.path, "-noout", "-text"])
        XCTAssertTrue(text.contains("CA:TRUE"), text)
        XCTAssertTrue(text.contains("Certificate Sign"), text)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: ca.keyFile.path)
        XCTAssertThrowsError(try CertificateAuthority.load(from: dir)) { error in
            XCTAssertTrue("\(error)".contains("chmod 600 \(ca.keyFile.path)"), "\(error)")
        }
    }

    func testProvisionedDeviceHasAChainedCertificateAParsableConfigAndABundle() throws {
        let ca = try CertificateAuthority.create(in: scratch.appendingPathComponent("ca"))
        // What `flotilla-coordinator keys export` writes while a rotation is prepared: two keys
        // in one file (plus a duplicate in a second file), which the agent needs one per file.
        let pinned = scratch.appendingPathComponent("coordinator-keys.pem")
        try Data((Self.coordinatorPublicKeyPEM + Self.nextCoordinatorPublicKeyPEM).utf8).write(to: pinned)
        let duplicate = scratch.appendingPathComponent("again.pem")
        try Data(Self.coordinatorPublicKeyPEM.utf8).write(to: duplicate)
        let acl = scratch.appendingPathComponent("acl.conf")
        try FileManager.default.copyItem(at: ShippedBroker.shippedDirectory.appendingPathComponent("acl.conf"), to: acl)

        var request = ProvisionRequest(
            deviceID: "edge-0001", hardwareClass: "arm64-neon", caDirectory: ca.directory,
            outputDirectory: scratch.appendingPathComponent("out"))
        request.brokerURL = "mqtts://broker.fleet.test:8883"
        request.coordinatorKeys = [pinned, duplicate]
        request.aclFile = acl
        request.validityDays = 30
        let device = try DeviceProvisioner.provision(request)

        let certificate = try XCTUnwrap(device.certificate)
        let key = try XCTUnwrap(device.key)
        XCTAssertEqual(try mode(key), 0o600)
        XCTAssertEqual(
            try openssl(["verify", "-CAfile", ca.certificateFile.path, certificate.path]).trimmingCharacters(in: .whitespacesAndNewlines),
            "\(certificate.path): OK")
        let subject = try openssl(["x509", "-in", certificate.path, "-noout", "-subject", "-enddate", "-ext", "extendedKeyUsage"])
        XCTAssertTrue(subject.contains("CN = edge-0001") || subject.contains("CN=edge-0001"), subject)
        XCTAssertTrue(subject.contains("TLS Web Client Authentication"), subject)
        // The key belongs to the certificate.
        XCTAssertEqual(
            try openssl(["pkey", "-in", key.path, "-pubout"]), try openssl(["x509", "-in", certificate.path, "-noout", "-pubkey"]))

        // The agent reads the config; paths point under /etc/flotilla, so resolve it with the
        // bundle's copy standing in for the installed tree.
        let json = try Data(contentsOf: device.agentConfig)
        var file = try JSONDecoder().decode(AgentConfigFile.self, from: json)
        XCTAssertEqual(file.deviceId, "edge-0001")
        XCTAssertEqual(file.hardwareClass, "arm64-neon")
        XCTAssertEqual(file.tls?.caFile, "/etc/flotilla/ca.pem")
        XCTAssertEqual(file.tls?.certFile, "/etc/flotilla/edge-0001.crt")
        XCTAssertEqual(file.tls?.keyFile, "/etc/flotilla/edge-0001.key")
        XCTAssertEqual(
            file.pinnedKeyFiles,
            [
                "/etc/flotilla/coordinator-keys/\(Self.coordinatorKeyID).pub.pem",
                "/etc/flotilla/coordinator-keys/\(Self.nextCoordinatorKeyID).pub.pem",
            ])
        let installed = device.agentConfig.deletingLastPathComponent().path
        func relocated(_ path: String) -> String { path.replacingOccurrences(of: "/etc/flotilla", with: installed) }
        file.pinnedKeyFiles = file.pinnedKeyFiles.map(relocated)
        file.tls = try XCTUnwrap(file.tls).relocated(relocated)
        let config = try file.resolve()
        XCTAssertEqual(config.deviceID, "edge-0001")
        XCTAssertEqual(config.hardwareClass, "arm64-neon")
        XCTAssertEqual(config.broker.host, "broker.fleet.test")
        XCTAssertEqual(config.broker.port, 8883)
        XCTAssertTrue(config.broker.useTLS)
        XCTAssertEqual(config.pinnedKeys.map(\.keyID), [Self.coordinatorKeyID, Self.nextCoordinatorKeyID])

        // The tarball holds the device tree, key mode kept, owned by root.
        let listing = try runTool("/usr/bin/tar", ["-tvzf", device.tarball.path])
        for path in [
            "etc/flotilla/agent.json", "etc/flotilla/ca.pem", "etc/flotilla/edge-0001.crt",
            "etc/flotilla/coordinator-keys/\(Self.coordinatorKeyID).pub.pem",
        ] {
            XCTAssertTrue(listing.contains(path), "\(path) missing from\n\(listing)")
        }
        let keyLine = try XCTUnwrap(listing.split(separator: "\n").first { $0.hasSuffix("etc/flotilla/edge-0001.key") })
        XCTAssertTrue(keyLine.hasPrefix("-rw------- 0/0"), String(keyLine))
        XCTAssertFalse(listing.contains("broker/"), "broker-side files must not ship to the device")
        XCTAssertFalse(listing.contains(" ./"), "unpacking at / must not touch / itself")
        XCTAssertFalse(listing.split(separator: "\n").contains { $0.hasSuffix(" etc/") }, "nor /etc")

        // The ACL block was appended once; provisioning another device of the class adds its own.
        let aclText = try String(contentsOf: acl, encoding: .utf8)
        XCTAssertTrue(aclText.hasSuffix(BrokerACL.deviceEntry(deviceID: "edge-0001", hardwareClass: "arm64-neon")))
        XCTAssertFalse(try BrokerACL.append(deviceID: "edge-0001", hardwareClass: "arm64-neon", to: acl), "idempotent")
        XCTAssertEqual(try String(contentsOf: acl, encoding: .utf8), aclText)
        XCTAssertThrowsError(try BrokerACL.append(deviceID: "edge-0001", hardwareClass: "x86_64-avx2", to: acl)) { error in
            guard case PKIError.aclConflict(_, let user, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(user, "edge-0001")
        }
    }

    func testBadInputIsRefusedWithTheFix() throws {
        let ca = try CertificateAuthority.create(in: scratch.appendingPathComponent("ca"))
        let out = scratch.appendingPathComponent("out")
        let key = scratch.appendingPathComponent("coordinator.pub.pem")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try Data(Self.coordinatorPublicKeyPEM.utf8).write(to: key)
        func provision(
            _ id: String, _ hardwareClass: String = "x86_64-avx2", caDir: URL? = nil, broker: String? = "mqtts://b:8883", keys: [URL]? = nil
        ) throws {
            var request = ProvisionRequest(
                deviceID: id, hardwareClass: hardwareClass, caDirectory: caDir ?? ca.directory, outputDirectory: out)
            request.brokerURL = broker
            request.coordinatorKeys = keys ?? [key]
            _ = try DeviceProvisioner.provision(request)
        }
        func expect(_ body: () throws -> Void, _ fragments: [String], line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                for fragment in fragments { XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \(fragment)", line: line) }
            }
        }
        expect({ try provision("edge/1") }, ["device id", "byte 0x2f", "letters, digits"])
        expect({ try provision("edge+") }, ["device id"])
        expect({ try provision("edge-1", "x86/avx2") }, ["hardware class", "0x2f"])
        expect({ try provision("coordinator-9") }, ["reserved for coordinators"])
        expect(
            { try provision("edge-1", caDir: self.scratch.appendingPathComponent("nowhere")) },
            ["flotilla ca init --dir", "ca.crt is missing"])
        expect({ try provision("edge-1", broker: "mqtt://b:1883") }, ["mqtts://"])
        expect({ try provision("edge-1", broker: nil) }, ["--broker", "ca issue --server"])
        expect({ try provision("edge-1", keys: []) }, ["--coordinator-key", "keys export"])
        expect({ try provision("edge-1", keys: [ca.keyFile]) }, ["never a private one"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("edge-1").path), "a refused run left files")

        expect({ try provision("edge-1", keys: [self.scratch.appendingPathComponent("missing.pem")]) }, ["missing.pem"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("edge-1").path), "a failed run left its bundle")

        try provision("edge-1")
        expect({ try provision("edge-1") }, ["edge-1", "already exists", "provisioned before"])
        expect({ _ = try ca.issue(.server(names: ["bad name"])) }, ["server name"])
        expect({ _ = try ca.issue(.client(commonName: "a#b")) }, ["common name"])
        expect({ _ = try ca.issue(.client(commonName: "x"), validityDays: 0) }, ["--days"])
    }

    func testServerCertificateNamesTheBrokerInSubjectAltName() throws {
        let ca = try CertificateAuthority.create(in: scratch.appendingPathComponent("ca"))
        let files = try ca.issue(.server(names: ["mqtt.fleet.test", "10.0.0.7", "::1"])).write(to: scratch, stem: "broker")
        let text = try openssl(["x509", "-in", files.certificate.path, "-noout", "-ext", "subjectAltName,extendedKeyUsage", "-subject"])
        XCTAssertTrue(text.contains("DNS:mqtt.fleet.test"), text)
        XCTAssertTrue(text.contains("IP Address:10.0.0.7"), text)
        XCTAssertTrue(text.contains("IP Address:0:0:0:0:0:0:0:1"), text)
        XCTAssertTrue(text.contains("TLS Web Server Authentication"), text)
        XCTAssertTrue(try openssl(["verify", "-CAfile", ca.certificateFile.path, files.certificate.path]).contains("OK"))
        XCTAssertThrowsError(try ca.issue(.server(names: ["mqtt.fleet.test"])).write(to: scratch, stem: "broker")) { error in
            guard case PKIError.alreadyExists = error else { return XCTFail("\(error)") }
        }
    }

    /// Mosquitto 2's `$7$` line, checked against a line `mosquitto_passwd -b FILE dev1 secret`
    /// wrote (Debian 12, mosquitto 2.0.11).
    func testPasswordLineMatchesMosquittoPasswd() throws {
        let salt = try XCTUnwrap(Data(base64Encoded: "cGwKY/J8KDvDAXFZ"))
        let line = MosquittoPassword(username: "dev1", password: "secret", salt: Array(salt), iterations: 101).passwordFileLine
        XCTAssertEqual(
            line,
            "dev1:$7$101$cGwKY/J8KDvDAXFZ$Me+l628JTHcraYbvh3JIow5IHUuUAE8HrejZm93OsITKMDg6PnkVFZoqjzf8dwAjp9DomeSmdOIWHdWRlYjEsw==")
        let generated = MosquittoPassword.generate(for: "edge-9")
        XCTAssertEqual(generated.password.count, 32)
        XCTAssertTrue(generated.passwordFileLine.hasPrefix("edge-9:$7$\(MosquittoPassword.iterations)$"))
        XCTAssertNotEqual(generated.password, MosquittoPassword.generate(for: "edge-9").password)
    }

    /// Key ids (first 8 bytes of SHA-256 of the raw key, docs/keys.md) of the two keys below,
    /// computed independently: `base64 -d | tail -c 32 | sha256sum` of the PEM body.
    static let coordinatorKeyID = "13eaaca42a0d1941"
    static let nextCoordinatorKeyID = "2cab89ad727d5757"

    static let nextCoordinatorPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAxz6t6ihfRuhd8NcEzxMqDWigLcAquoNsKeWgSxtjnBQ=
        -----END PUBLIC KEY-----

        """

    static let coordinatorPublicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEA2zaCu4I77L0b6fF9dwE6rutyPXDKxkWLdmbi/pTJax0=
        -----END PUBLIC KEY-----

        """
}

func openssl(_ arguments: [String]) throws -> String { try runTool("/usr/bin/openssl", arguments) }

/// Runs a tool to completion; throws with its output when it fails.
func runTool(_ tool: String, _ arguments: [String]) throws -> String {
    let result = try runToolStatus(tool, arguments)
    guard result.status == 0 else { throw ShippedBrokerError("\(tool) \(arguments.joined(separator: " ")) failed: \(result.output)") }
    return result.output
}

/// Runs a tool to completion; its exit status and its output (stdout and stderr together).
func runToolStatus(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-pki-tool-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitForExit()
    try handle.close()
    return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
}

extension AgentConfigFile.TLSFiles {
    func relocated(_ move: (String) -> String) -> Self {
        var copy = self
        copy.caFile = move(caFile)
        copy.certFile = certFile.map(move)
        copy.keyFile = keyFile.map(move)
        return copy
    }
}
