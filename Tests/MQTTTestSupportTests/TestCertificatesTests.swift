import Foundation
import MQTTTestSupport
import XCTest

/// The generated PKI, checked with `openssl verify` and `openssl x509 -text`.
final class TestCertificatesTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-test-certificates-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testChainsNamesAndKeyTypes() async throws {
        let certificates = try TestCertificates.make(in: directory)
        let ca = certificates.caCertificate.path

        let server = try await openssl(["verify", "-CAfile", ca, "-purpose", "sslserver", certificates.serverCertificate.path])
        XCTAssertEqual(server.status, 0, "\(server)")
        let client = try await openssl(["verify", "-CAfile", ca, "-purpose", "sslclient", certificates.clientCertificate.path])
        XCTAssertEqual(client.status, 0, "\(client)")
        let unrelated = try await openssl(["verify", "-CAfile", certificates.otherCACertificate.path, certificates.serverCertificate.path])
        XCTAssertNotEqual(unrelated.status, 0, "the unrelated CA verifies the server: \(unrelated)")

        let serverText = try await openssl(["x509", "-in", certificates.serverCertificate.path, "-noout", "-text"]).output
        XCTAssertTrue(serverText.contains("IP Address:127.0.0.1"), serverText)
        XCTAssertTrue(serverText.contains("DNS:localhost"), serverText)
        XCTAssertTrue(serverText.contains("prime256v1") || serverText.contains("P-256"), serverText)
        let clientSubject = try await openssl(["x509", "-in", certificates.clientCertificate.path, "-noout", "-subject"]).output
        XCTAssertEqual(clientSubject.trimmingCharacters(in: .whitespacesAndNewlines), "subject=CN = client")
        let keyText = try await openssl(["pkey", "-in", certificates.clientKey.path, "-noout", "-text"]).output
        XCTAssertTrue(keyText.contains("prime256v1") || keyText.contains("P-256"), keyText)
    }

    func testExtraClientCertificateKeepsAnUnusualCommonName() async throws {
        let certificates = try TestCertificates.make(in: directory)
        let extra = try certificates.makeClientCertificate(commonName: "site=3/device+7", in: directory.appendingPathComponent("extra"))
        XCTAssertEqual(extra.certificate.lastPathComponent, "site_3_device_7.crt")
        let subject = try await openssl(["x509", "-in", extra.certificate.path, "-noout", "-subject", "-nameopt", "RFC2253"]).output
        XCTAssertEqual(subject.trimmingCharacters(in: .whitespacesAndNewlines), #"subject=CN=site=3/device\+7"#)
        let verified = try await openssl(["verify", "-CAfile", certificates.caCertificate.path, extra.certificate.path])
        XCTAssertEqual(verified.status, 0, "\(verified)")

        let untrusted = try certificates.makeUntrustedClientCertificate(commonName: "client", in: directory.appendingPathComponent("bad"))
        let rejected = try await openssl(["verify", "-CAfile", certificates.caCertificate.path, untrusted.certificate.path])
        XCTAssertNotEqual(rejected.status, 0, "\(rejected)")
    }

    func testEmptyCommonNameIsRejected() throws {
        let certificates = try TestCertificates.make(in: directory)
        XCTAssertThrowsError(try certificates.makeClientCertificate(commonName: "", in: directory)) { error in
            XCTAssertEqual((error as? MosquittoBrokerError)?.code, .invalidOptions)
        }
    }

    private func openssl(_ arguments: [String]) async throws -> MosquittoClient.Result {
        try await MosquittoClient.run("openssl", arguments)
    }
}
