public import Foundation

/// A throwaway PKI for TLS tests: a CA, a server certificate for 127.0.0.1/localhost, a client
/// certificate, and an unrelated CA that must not be trusted.
///
/// Keys are EC P-256 (generated in milliseconds, unlike RSA) and everything is made with the
/// openssl command-line tool, so no TLS library is linked into the test support module.
/// Private keys are written unencrypted: they protect nothing but a loopback test.
public struct TestCertificates: Sendable {
    public let caCertificate: URL
    public let caKey: URL
    /// Signed by the CA; subjectAltName IP:127.0.0.1 and DNS:localhost, extendedKeyUsage serverAuth.
    public let serverCertificate: URL
    public let serverKey: URL
    /// Signed by the CA; CN "client", extendedKeyUsage clientAuth.
    public let clientCertificate: URL
    public let clientKey: URL
    /// A self-signed CA unrelated to `caCertificate`: a client that trusts only this one must
    /// refuse the server.
    public let otherCACertificate: URL
    /// The unrelated CA's key, to sign client certificates the broker must refuse.
    public let otherCAKey: URL

    /// Days the certificates are valid; long enough never to expire under a test.
    static let validityDays = "3650"

    /// Creates `directory` if needed and writes the CA, server, client and other-CA files in it.
    public static func make(in directory: URL) throws -> TestCertificates {
        let openssl = try CommandLineTool.locate("openssl", package: "openssl")
        try createDirectory(directory)
        let extensions = try writeExtensionsFile(in: directory)
        func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

        let ca = (certificate: file("ca.crt"), key: file("ca.key"))
        try makeAuthority(
            commonName: "Flotilla Test CA", certificate: ca.certificate, key: ca.key, extensions: extensions, openssl: openssl)
        let other = (certificate: file("other-ca.crt"), key: file("other-ca.key"))
        try makeAuthority(
            commonName: "Flotilla Unrelated Test CA", certificate: other.certificate, key: other.key, extensions: extensions,
            openssl: openssl)

        let server = (certificate: file("server.crt"), key: file("server.key"))
        try makeLeaf(
            commonName: "localhost", section: "flotilla_server", certificate: server.certificate, key: server.key,
            authority: ca, extensions: extensions, openssl: openssl)
        let client = (certificate: file("client.crt"), key: file("client.key"))
        try makeLeaf(
            commonName: "client", section: "flotilla_client", certificate: client.certificate, key: client.key,
            authority: ca, extensions: extensions, openssl: openssl)

        return TestCertificates(
            caCertificate: ca.certificate, caKey: ca.key,
            serverCertificate: server.certificate, serverKey: server.key,
            clientCertificate: client.certificate, clientKey: client.key,
            otherCACertificate: other.certificate, otherCAKey: other.key)
    }

    /// Issues another client certificate from the CA, for tests that tell clients apart by
    /// certificate (for example with `use_identity_as_username`). Files are named after the
    /// common name, with characters other than letters, digits, '-' and '_' replaced by '_'.
    public func makeClientCertificate(commonName: String, in directory: URL) throws -> (certificate: URL, key: URL) {
        try makeClientCertificate(commonName: commonName, in: directory, signedBy: (caCertificate, caKey))
    }

    /// Issues a client certificate signed by the unrelated CA: a broker that requires
    /// certificates from `caCertificate` must refuse it.
    public func makeUntrustedClientCertificate(commonName: String, in directory: URL) throws -> (certificate: URL, key: URL) {
        try makeClientCertificate(commonName: commonName, in: directory, signedBy: (otherCACertificate, otherCAKey))
    }

    private func makeClientCertificate(
        commonName: String, in directory: URL, signedBy authority: (certificate: URL, key: URL)
    ) throws -> (certificate: URL, key: URL) {
        let openssl = try CommandLineTool.locate("openssl", package: "openssl")
        try Self.createDirectory(directory)
        let extensions = try Self.writeExtensionsFile(in: directory)
        let stem = Self.fileStem(for: commonName)
        let result = (
            certificate: directory.appendingPathComponent("\(stem).crt"), key: directory.appendingPathComponent("\(stem).key")
        )
        try Self.makeLeaf(
            commonName: commonName, section: "flotilla_client", certificate: result.certificate, key: result.key,
            authority: authority, extensions: extensions, openssl: openssl)
        return result
    }
}
