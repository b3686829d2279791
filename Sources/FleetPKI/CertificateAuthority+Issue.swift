import Crypto
public import Foundation
import Glibc
import SwiftASN1
import X509

/// What a leaf certificate is for.
public enum CertificateProfile: Sendable, Equatable {
    /// The broker: serverAuth, with every name clients connect to (DNS names or IP
    /// addresses) as subjectAltName; the first name is also the common name.
    case server(names: [String])
    /// A device or coordinator: clientAuth; the common name is the MQTT username the broker
    /// derives (`use_identity_as_username true`).
    case client(commonName: String)
}

/// A freshly issued certificate and its private key, both PEM, not yet on disk.
public struct IssuedCertificate: Sendable {
    public let commonName: String
    public let certificatePEM: String
    public let privateKeyPEM: String

    /// Writes `<stem>.crt` (0644) and `<stem>.key` (0600) into `directory`, refusing to
    /// replace either.
    @discardableResult
    public func write(to directory: URL, stem: String) throws(PKIError) -> (certificate: URL, key: URL) {
        try PKIFiles.makeDirectory(directory)
        let files = (certificate: directory.appendingPathComponent("\(stem).crt"), key: directory.appendingPathComponent("\(stem).key"))
        let hint = "Remove it first if you mean to replace it (and revoke the old certificate's access: docs/security.md)"
        for file in [files.certificate, files.key] where PKIFiles.exists(file) {
            throw .alreadyExists(path: file.path, hint: hint)
        }
        try PKIFiles.create(files.key, contents: privateKeyPEM, mode: PKIFiles.privateMode, hint: hint)
        try PKIFiles.create(files.certificate, contents: certificatePEM, mode: PKIFiles.publicMode, hint: hint)
        return files
    }
}

extension CertificateAuthority {
    /// Leaf certificates default to two years: long enough not to strand devices that are
    /// offline for months, short enough that a lost device's certificate ages out.
    public static let defaultLeafValidityDays = 730

    /// Issues a certificate with a new P-256 key for `profile`, signed by this CA.
    public func issue(
        _ profile: CertificateProfile, validityDays: Int = defaultLeafValidityDays, now: Date = Date()
    ) throws(PKIError) -> IssuedCertificate {
        try Validity.check(days: validityDays, option: "--days")
        let commonName: String
        let names: [GeneralName]
        switch profile {
        case .server(let serverNames):
            guard let first = serverNames.first else {
                throw .invalidName(
                    name: "", what: "server name", reason: "give at least one DNS name or IP address the broker is reached at")
            }
            commonName = first
            names = try serverNames.map { name throws(PKIError) in try Self.generalName(name) }
        case .client(let name):
            try Self.checkCommonName(name)
            commonName = name
            names = []
        }
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PrivateKey(key).publicKey
        let certificate: Certificate
        do {
            let subject = try DistinguishedName { CommonName(commonName) }
            let issuerKeyID = SubjectKeyIdentifier(hash: self.certificate.publicKey).keyIdentifier
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage(names.isEmpty ? [.clientAuth] : [.serverAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: issuerKeyID)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            }
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: Validity.start(now), notValidAfter: Validity.end(now, days: validityDays),
                issuer: self.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: self.key)
        } catch {
            throw .certificate(subject: commonName, detail: "\(error)")
        }
        let pem: String
        do { pem = try certificate.serializeAsPEM().pemString + "\n" } catch {
            throw .certificate(subject: commonName, detail: "PEM encoding failed: \(error)")
        }
        return IssuedCertificate(commonName: commonName, certificatePEM: pem, privateKeyPEM: key.pemRepresentation + "\n")
    }

    /// A common name that is also a safe MQTT username and ACL token: the topic-level rules
    /// (letters, digits, `-_.:`), since `%u` in an ACL pattern becomes a topic level.
    static func checkCommonName(_ name: String) throws(PKIError) {
        try FleetIdentity.validate(name, as: "certificate common name")
    }

    /// An IPv4/IPv6 literal becomes an iPAddress SAN, anything else a dNSName (checked for
    /// characters a host name may hold).
    static func generalName(_ name: String) throws(PKIError) -> GeneralName {
        if let bytes = ipAddressBytes(name) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
        let allowed = name.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "*")
        }
        guard !name.isEmpty, name.utf8.count <= 253, allowed else {
            throw .invalidName(
                name: name, what: "server name", reason: "not an IP address nor a DNS name (letters, digits, '-', '.', a leading '*.')")
        }
        return .dnsName(name)
    }

    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
