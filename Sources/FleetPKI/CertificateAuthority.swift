import Crypto
public import Foundation
import SwiftASN1
import X509

/// The fleet's certificate authority: one EC P-256 key and its self-signed certificate in a
/// directory (`ca.key` 0600, `ca.crt` 0644). It signs the broker's server certificate, the
/// coordinators' and every device's client certificate; the broker trusts it (its `cafile`)
/// and so do devices, for the broker's certificate.
///
/// P-256 rather than RSA: keys are made in microseconds, certificates stay small for
/// constrained devices, and every TLS stack Mosquitto and libmosquitto link (OpenSSL 1.1/3)
/// accepts ECDSA.
public struct CertificateAuthority: Sendable {
    public static let certificateFileName = "ca.crt"
    public static let keyFileName = "ca.key"
    /// Ten years: rotating a CA means touching every device (docs/security.md, "CA rotation").
    public static let defaultValidityDays = 3650

    public let directory: URL
    let certificate: Certificate
    /// The X.509 wrapper is Sendable; swift-crypto's P256 key is not, on Linux.
    let key: Certificate.PrivateKey

    public var certificateFile: URL { directory.appendingPathComponent(Self.certificateFileName) }
    public var keyFile: URL { directory.appendingPathComponent(Self.keyFileName) }
    /// The CA certificate, PEM.
    public var certificatePEM: String { (try? certificate.serializeAsPEM().pemString).map { $0 + "\n" } ?? "" }
    /// The CA's common name.
    public var commonName: String { Self.commonName(of: certificate.subject) ?? "" }

    /// Makes a new CA in `directory` (created 0700 if missing). Refuses if a CA key or
    /// certificate is already there: a second `init` would orphan every certificate the first
    /// CA issued.
    public static func create(
        in directory: URL, commonName: String = "Flotilla Fleet CA", validityDays: Int = defaultValidityDays, now: Date = Date()
    ) throws(PKIError) -> CertificateAuthority {
        try Validity.check(days: validityDays, option: "--days")
        let hint = "A fleet CA exists in \(directory.path); use it, or choose another --dir for a new CA (CA rotation: docs/security.md)"
        let certificateFile = directory.appendingPathComponent(certificateFileName)
        let keyFile = directory.appendingPathComponent(keyFileName)
        for file in [keyFile, certificateFile] where PKIFiles.exists(file) {
            throw .alreadyExists(path: file.path, hint: hint)
        }
        try PKIFiles.makeDirectory(directory, mode: 0o700)
        let key = P256.Signing.PrivateKey()
        let signer = Certificate.PrivateKey(key)
        let certificate: Certificate
        do {
            let name = try DistinguishedName { CommonName(commonName) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: signer.publicKey)
            }
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: signer.publicKey,
                notValidBefore: Validity.start(now), notValidAfter: Validity.end(now, days: validityDays),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: signer)
        } catch {
            throw .certificate(subject: commonName, detail: "\(error)")
        }
        // The key first: a certificate without its key is useless, a key without its
        // certificate is detected by `load` and named.
        try PKIFiles.create(keyFile, contents: key.pemRepresentation + "\n", mode: PKIFiles.privateMode, hint: hint)
        let authority = CertificateAuthority(directory: directory, certificate: certificate, key: signer)
        try PKIFiles.create(certificateFile, contents: authority.certificatePEM, mode: PKIFiles.publicMode, hint: hint)
        // An empty CRL from the start: the shipped broker config names crl.pem (a broker with
        // `crlfile` needs one from every CA it trusts).
        try authority.writeCRL(now: now)
        return authority
    }

    /// Reads the CA from `directory`, checking that key and certificate belong together.
    public static func load(from directory: URL) throws(PKIError) -> CertificateAuthority {
        let certificateFile = directory.appendingPathComponent(certificateFileName)
        let keyFile = directory.appendingPathComponent(keyFileName)
        for file in [certificateFile, keyFile] where !PKIFiles.exists(file) {
            throw .missingCA(directory: directory.path, detail: "\(file.lastPathComponent) is missing")
        }
        try KeyFilePermissions.check(keyFile)
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: try PKIFiles.read(certificateFile)) } catch let error as PKIError {
            throw error
        } catch {
            throw .invalidPEM(path: certificateFile.path, detail: "not an X.509 certificate: \(error)")
        }
        let key: P256.Signing.PrivateKey
        do { key = try P256.Signing.PrivateKey(pemRepresentation: try PKIFiles.read(keyFile)) } catch let error as PKIError {
            throw error
        } catch {
            throw .invalidPEM(path: keyFile.path, detail: "not an EC P-256 private key: \(error)")
        }
        guard certificate.publicKey == Certificate.PrivateKey(key).publicKey else {
            throw .missingCA(
                directory: directory.path,
                detail: "\(keyFileName) is not the key of \(certificateFileName) (were files mixed from two CAs?)")
        }
        return CertificateAuthority(directory: directory, certificate: certificate, key: Certificate.PrivateKey(key))
    }

    static func commonName(of name: DistinguishedName) -> String? {
        for rdn in name {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let text = String(attribute.value) { return text }
            }
        }
        return nil
    }
}

/// Validity periods of issued certificates.
enum Validity {
    /// Backdated one hour: a device whose clock lags a little (no RTC, NTP not yet synced)
    /// would otherwise see a fresh certificate as not yet valid.
    static func start(_ now: Date) -> Date { now.addingTimeInterval(-3600) }

    static func end(_ now: Date, days: Int) -> Date { now.addingTimeInterval(Double(days) * 86_400) }

    static func check(days: Int, option: String) throws(PKIError) {
        guard (1...36_500).contains(days) else {
            throw .invalidOption(name: option, detail: "\(days) days is outside 1...36500; give the validity in days, e.g. 730")
        }
    }
}
