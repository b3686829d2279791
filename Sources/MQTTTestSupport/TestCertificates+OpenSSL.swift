import Foundation

/// The openssl invocations behind `TestCertificates`.
extension TestCertificates {
    /// One config file carries the extension sections for every certificate kind, so the
    /// result does not depend on the distribution's default openssl.cnf (which differs between
    /// Debian, Homebrew and OpenSSL 1.1 vs 3).
    static let extensionsConfig = """
        # Written by Flotilla's MQTTTestSupport; used by `openssl req` and `openssl x509 -req`.
        [req]
        distinguished_name = flotilla_dn
        prompt = no

        [flotilla_dn]
        CN = unused

        [flotilla_ca]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash

        [flotilla_server]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1, DNS:localhost
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        [flotilla_client]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature
        extendedKeyUsage = clientAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid

        """

    static func createDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw MosquittoBrokerError(.fileSystem, "cannot create certificate directory \(directory.path): \(error)")
        }
    }

    static func writeExtensionsFile(in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("openssl-extensions.cnf")
        do {
            try extensionsConfig.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw MosquittoBrokerError(.fileSystem, "cannot write \(url.path): \(error)")
        }
        return url
    }

    static func makeKey(_ key: URL, openssl: CommandLineTool) throws {
        try openssl.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.path])
    }

    static func makeAuthority(commonName: String, certificate: URL, key: URL, extensions: URL, openssl: CommandLineTool) throws {
        try makeKey(key, openssl: openssl)
        try openssl.run([
            "req", "-new", "-x509", "-sha256", "-days", validityDays, "-key", key.path,
            "-subj", "/CN=\(escapedSubjectValue(commonName))", "-config", extensions.path, "-extensions", "flotilla_ca",
            "-set_serial", randomSerial(), "-out", certificate.path,
        ])
    }

    static func makeLeaf(
        commonName: String, section: String, certificate: URL, key: URL,
        authority: (certificate: URL, key: URL), extensions: URL, openssl: CommandLineTool
    ) throws {
        guard !commonName.isEmpty, !commonName.contains(where: { $0.isNewline }) else {
            throw MosquittoBrokerError(
                .invalidOptions, "certificate common name \(commonName.debugDescription) must be non-empty and on one line")
        }
        try makeKey(key, openssl: openssl)
        let request = certificate.deletingPathExtension().appendingPathExtension("csr")
        defer { try? FileManager.default.removeItem(at: request) }
        try openssl.run([
            "req", "-new", "-key", key.path, "-subj", "/CN=\(escapedSubjectValue(commonName))",
            "-config", extensions.path, "-out", request.path,
        ])
        try openssl.run([
            "x509", "-req", "-sha256", "-days", validityDays, "-in", request.path,
            "-CA", authority.certificate.path, "-CAkey", authority.key.path, "-set_serial", randomSerial(),
            "-extfile", extensions.path, "-extensions", section, "-out", certificate.path,
        ])
    }

    /// `-subj` treats '/', '+' and '=' as syntax; a backslash makes any character literal.
    static func escapedSubjectValue(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if "\\/+=".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    static func fileStem(for commonName: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        let stem = String(commonName.map { allowed.contains($0) ? $0 : "_" })
        return stem.isEmpty ? "client" : stem
    }

    /// Distinct serials keep certificates from two runs apart in logs; 63 random bits stay a
    /// positive INTEGER, as RFC 5280 asks.
    static func randomSerial() -> String {
        "0x" + String(UInt64.random(in: 1...UInt64(Int64.max)), radix: 16)
    }
}
