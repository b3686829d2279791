import FleetPKI
import Foundation
import MQTT
import XCTest

/// `flotilla ca revoke` / `ca crl`: the CRL is checked by OpenSSL itself (signature against the
/// CA, the serials, reasons and CRL numbers it lists), and the shipped broker refuses a revoked
/// certificate while it still lets the others in.
final class RevocationTests: XCTestCase {
    var scratch: URL!
    var pki: PKIFixture!

    override func setUp() async throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-crl-\(UUID().uuidString.prefix(8))")
        pki = try PKIFixture(root: scratch)
    }

    override func tearDown() async throws {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    func testANewCAHasAnEmptyCRLThatOpenSSLVerifies() throws {
        let text = try openssl(["crl", "-in", pki.ca.crlFile.path, "-CAfile", pki.ca.certificateFile.path, "-noout", "-text"])
        XCTAssertTrue(text.contains("verify OK"), text)
        XCTAssertTrue(text.contains("No Revoked Certificates"), text)
        XCTAssertTrue(text.contains("X509v3 CRL Number: \n                1"), text)
        XCTAssertTrue(text.contains("Signature Algorithm: ecdsa-with-SHA256"), text)
        let next = try openssl(["crl", "-in", pki.ca.crlFile.path, "-noout", "-nextupdate"])
        let nextUpdate = try XCTUnwrap(Self.opensslDate(next, prefix: "nextUpdate="))
        XCTAssertEqual(nextUpdate.timeIntervalSinceNow, 30 * 86_400, accuracy: 120)
        XCTAssertEqual(try pki.ca.revocations(), RevocationRegistry(nextCRLNumber: 2, revoked: []))
    }

    func testRevokingACertificateListsItsSerialAndReasonAndAdvancesTheCRLNumber() throws {
        _ = try pki.provision("edge-lost", hardwareClass: "x86_64-avx2")
        let certificateFile = try findCertificate("edge-lost")
        let serial = try openssl(["x509", "-in", certificateFile.path, "-noout", "-serial"])
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "")

        let entry = try pki.ca.revoke(
            certificatePEM: try String(contentsOf: certificateFile, encoding: .utf8), source: certificateFile.path, reason: .keyCompromise)
        XCTAssertEqual(entry.commonName, "edge-lost")
        XCTAssertEqual(entry.serial, RevocationRegistry.normalizedSerial(serial))

        let text = try openssl(["crl", "-in", pki.ca.crlFile.path, "-CAfile", pki.ca.certificateFile.path, "-noout", "-text"])
        XCTAssertTrue(text.contains("verify OK"), text)
        XCTAssertTrue(text.contains("Serial Number: \(serial.uppercased())"), "serial \(serial) not listed:\n\(text)")
        XCTAssertTrue(text.contains("Key Compromise"), text)
        XCTAssertTrue(text.contains("X509v3 CRL Number: \n                2"), text)
        // openssl's own verdict on the certificate against the CA and this CRL.
        let verify = try runToolStatus(
            "/usr/bin/openssl",
            ["verify", "-crl_check", "-CAfile", pki.ca.certificateFile.path, "-CRLfile", pki.ca.crlFile.path, certificateFile.path])
        XCTAssertNotEqual(verify.status, 0)
        XCTAssertTrue(verify.output.contains("certificate revoked"), verify.output)

        // Twice: refused, and the CRL is left as it was.
        let before = try Data(contentsOf: pki.ca.crlFile)
        XCTAssertThrowsError(try pki.ca.revoke(serial: "0x" + serial.lowercased())) { error in
            guard case .alreadyRevoked(let s, _) = error as? PKIError else { return XCTFail("\(error)") }
            XCTAssertEqual(s, entry.serial)
        }
        XCTAssertEqual(try Data(contentsOf: pki.ca.crlFile), before)

        // Re-signing keeps the entry and moves the number on.
        let registry = try pki.ca.writeCRL(validityDays: 7)
        XCTAssertEqual(registry.revoked, [entry])
        XCTAssertEqual(registry.nextCRLNumber, 4)
        let resigned = try openssl(["crl", "-in", pki.ca.crlFile.path, "-CAfile", pki.ca.certificateFile.path, "-noout", "-text"])
        XCTAssertTrue(resigned.contains("X509v3 CRL Number: \n                3"), resigned)
        XCTAssertTrue(resigned.contains("Serial Number: \(serial.uppercased())"), resigned)
    }

    func testCertificatesOfAnotherCAAndBadSerialsAreRefusedWithTheirFix() throws {
        let other = try PKIFixture(root: scratch, name: "other-ca")
        let foreign = try other.client("edge-x")
        XCTAssertThrowsError(
            try pki.ca.revoke(
                certificatePEM: try String(contentsOf: foreign.certificate, encoding: .utf8), source: foreign.certificate.path)
        ) { error in
            XCTAssertTrue("\(error)".contains("was not issued by the CA"), "\(error)")
            XCTAssertTrue("\(error)".contains(foreign.certificate.path), "\(error)")
        }
        XCTAssertThrowsError(try pki.ca.revoke(certificatePEM: "not a certificate", source: "junk.crt")) { error in
            XCTAssertTrue("\(error)".contains("junk.crt"), "\(error)")
        }
        for bad in ["", "xyz", "12 34", String(repeating: "F", count: 41)] {
            XCTAssertThrowsError(try pki.ca.revoke(serial: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("--serial"), "\(error)")
            }
        }
        XCTAssertEqual(RevocationRegistry.normalizedSerial("0x00:0a:Bc"), "ABC")
        XCTAssertEqual(RevocationRegistry.normalizedSerial("0000"), "0")
        XCTAssertEqual(try pki.ca.revocations().revoked, [])

        // A damaged registry is named, not silently reset (it would drop revocations).
        try Data("{\"nextCRLNumber\": 0, \"revoked\": []}".utf8).write(to: pki.ca.revocationRegistryFile)
        XCTAssertThrowsError(try pki.ca.writeCRL()) { error in
            XCTAssertTrue("\(error)".contains("revoked.json"), "\(error)")
        }
    }

    func testTheShippedBrokerRefusesARevokedDeviceAfterAReloadAndKeepsTheOthers() async throws {
        var devices: [ProvisionedDevice] = []
        let pki = self.pki!
        let broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [pki.ca.certificatePEM], crlPEMs: [try pki.crlPEM()], server: pki.server
        ) { acl in
            devices = [
                try pki.provision("edge-kept", hardwareClass: "x86_64-avx2", acl: acl),
                try pki.provision("edge-stolen", hardwareClass: "x86_64-avx2", acl: acl),
            ]
        }
        defer { broker.stop() }
        let (kept, stolen) = (devices[0], devices[1])
        // Before: both connect (the control for the refusal below).
        let (first, _) = try await broker.connect(broker.configuration(device: stolen))
        XCTAssertTrue(first.isConnected)
        await first.disconnect()

        let certificate = try findCertificate("edge-stolen")
        try pki.ca.revoke(
            certificatePEM: try String(contentsOf: certificate, encoding: .utf8), source: certificate.path, reason: .keyCompromise)
        try Data(try pki.crlPEM().utf8).write(to: broker.crl)
        // What docs/security.md tells operators: a reload (SIGHUP) re-reads crl.pem.
        try await broker.reloadAndWait()

        await assertRefused(try MQTTClient(configuration: broker.configuration(device: stolen)))
        let (still, _) = try await broker.connect(broker.configuration(device: kept))
        XCTAssertTrue(still.isConnected, "a device that was not revoked must still connect")
        await still.disconnect()
    }

    func testAnExpiredCRLLocksEveryCertificateClientOut() async throws {
        // Why `ca crl` must run on a timer: OpenSSL treats an expired CRL as no CRL.
        let pki = self.pki!
        var devices: [ProvisionedDevice] = []
        try pki.ca.writeCRL(validityDays: 1, now: Date().addingTimeInterval(-3 * 86_400))
        let broker = try ShippedBroker(
            in: scratch.appendingPathComponent("broker"), caPEMs: [pki.ca.certificatePEM], crlPEMs: [try pki.crlPEM()], server: pki.server
        ) { acl in devices = [try pki.provision("edge-ok", hardwareClass: "x86_64-avx2", acl: acl)] }
        defer { broker.stop() }
        await assertRefused(try MQTTClient(configuration: broker.configuration(device: devices[0])))

        try pki.ca.writeCRL()
        try Data(try pki.crlPEM().utf8).write(to: broker.crl)
        try await broker.reloadAndWait()
        let (client, _) = try await broker.connect(broker.configuration(device: devices[0]))
        XCTAssertTrue(client.isConnected, "a fresh CRL lets the device back in")
        await client.disconnect()
    }

    // MARK: - helpers

    func findCertificate(_ id: String) throws -> URL {
        let root = scratch.appendingPathComponent("bundles-ca")
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.lastPathComponent == "\(id).crt" { return url }
        }
        throw ShippedBrokerError("no \(id).crt under \(root.path)")
    }

    static func opensslDate(_ text: String, prefix: String) -> Date? {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: prefix, with: "")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        return formatter.date(from: value.replacingOccurrences(of: "  ", with: " "))
    }
}
