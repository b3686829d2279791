import Crypto
public import Foundation
import SwiftASN1
import X509

/// Revocation: `revoked.json` (what was revoked, the next CRL number) and `crl.pem`, the signed
/// CRL the broker loads (`crlfile`; with it OpenSSL refuses a revoked client certificate in the
/// TLS handshake, before any MQTT packet). The broker needs a CRL from every CA it trusts and
/// refuses every client once a CRL's nextUpdate has passed, so `crl.pem` is re-signed
/// (`flotilla ca crl`) well inside its validity (docs/security.md, "Revocation").
extension CertificateAuthority {
    public static let crlFileName = "crl.pem"
    public static let revocationRegistryFileName = "revoked.json"
    /// 30 days: long enough that a missed weekly refresh does not lock the fleet out, short
    /// enough that a stolen CRL-free window stays small.
    public static let defaultCRLValidityDays = 30

    public var crlFile: URL { directory.appendingPathComponent(Self.crlFileName) }
    public var revocationRegistryFile: URL { directory.appendingPathComponent(Self.revocationRegistryFileName) }

    /// The revocation registry (empty when the CA has never revoked or signed a CRL).
    public func revocations() throws(PKIError) -> RevocationRegistry {
        let url = revocationRegistryFile
        guard PKIFiles.exists(url) else { return RevocationRegistry() }
        let registry: RevocationRegistry
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            registry = try decoder.decode(RevocationRegistry.self, from: Data(try PKIFiles.read(url).utf8))
        } catch let error as PKIError {
            throw error
        } catch {
            throw .io(path: url.path, operation: "parse", detail: "not a revocation registry (\(error)); restore it from the CA backup")
        }
        guard registry.nextCRLNumber >= 1,
            registry.revoked.allSatisfy({ RevocationRegistry.normalizedSerial($0.serial) == $0.serial })
        else {
            throw .io(
                path: url.path, operation: "parse", detail: "a CRL number below 1 or a malformed serial; restore it from the CA backup")
        }
        return registry
    }

    /// Revokes the certificate in `certificatePEM`, which must have been issued by this CA, and
    /// writes a new CRL. Refuses a certificate revoked already (the CRL is unchanged).
    @discardableResult
    public func revoke(
        certificatePEM: String, source: String, reason: RevocationReason = .unspecified,
        crlValidityDays: Int = defaultCRLValidityDays, now: Date = Date()
    ) throws(PKIError) -> RevokedCertificate {
        let leaf: Certificate
        do { leaf = try Certificate(pemEncoded: certificatePEM) } catch {
            throw .invalidPEM(path: source, detail: "not an X.509 certificate: \(error)")
        }
        guard leaf.issuer == certificate.subject, certificate.publicKey.isValidSignature(leaf.signature, for: leaf) else {
            throw .invalidOption(
                name: "--cert",
                detail:
                    "\(source) was not issued by the CA in \(directory.path) (issuer \(leaf.issuer)); revoke it with the CA that issued it")
        }
        let serial = RevocationRegistry.hex(leaf.serialNumber.bytes)
        return try revoke(
            serial: serial, commonName: Self.commonName(of: leaf.subject), reason: reason, crlValidityDays: crlValidityDays, now: now)
    }

    /// Revokes by serial number (hex), for a certificate whose file is lost.
    @discardableResult
    public func revoke(
        serial text: String, commonName: String? = nil, reason: RevocationReason = .unspecified,
        crlValidityDays: Int = defaultCRLValidityDays, now: Date = Date()
    ) throws(PKIError) -> RevokedCertificate {
        guard let serial = RevocationRegistry.normalizedSerial(text) else {
            throw .invalidOption(
                name: "--serial",
                detail: "\(text.debugDescription) is not a hexadecimal serial number (as `openssl x509 -serial -noout` prints it)")
        }
        try Validity.check(days: crlValidityDays, option: "--crl-days")
        var registry = try revocations()
        if let existing = registry.revoked.first(where: { $0.serial == serial }) {
            throw .alreadyRevoked(serial: serial, since: existing.revokedAt)
        }
        // Whole seconds: what the CRL and the registry's ISO 8601 dates can hold.
        let revokedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let entry = RevokedCertificate(serial: serial, commonName: commonName, revokedAt: revokedAt, reason: reason)
        registry.revoked.append(entry)
        try writeCRL(registry: registry, validityDays: crlValidityDays, now: now)
        return entry
    }

    /// Signs a new CRL of everything revoked so far (thisUpdate now, nextUpdate now + days),
    /// replacing `crl.pem` atomically, and advances the CRL number. Run it on a schedule.
    @discardableResult
    public func writeCRL(validityDays: Int = defaultCRLValidityDays, now: Date = Date()) throws(PKIError) -> RevocationRegistry {
        try Validity.check(days: validityDays, option: "--days")
        return try writeCRL(registry: try revocations(), validityDays: validityDays, now: now)
    }

    @discardableResult
    private func writeCRL(registry: RevocationRegistry, validityDays: Int, now: Date) throws(PKIError) -> RevocationRegistry {
        var registry = registry
        let der = try signedCRL(registry: registry, thisUpdate: now, nextUpdate: Validity.end(now, days: validityDays))
        registry.nextCRLNumber += 1
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do { json = try encoder.encode(registry) } catch {
            throw .io(path: revocationRegistryFile.path, operation: "encode", detail: "\(error)")
        }
        // The registry first: a crash between the two leaves a registry ahead of the CRL, which
        // the next `ca crl` re-signs; never a CRL that names what the registry forgot.
        try PKIFiles.replace(revocationRegistryFile, contents: String(decoding: json, as: UTF8.self) + "\n", mode: PKIFiles.publicMode)
        try PKIFiles.replace(crlFile, contents: DERWriter.pem(der, label: "X509 CRL"), mode: PKIFiles.publicMode)
        return registry
    }

    /// The DER CertificateList (RFC 5280 §5.1), signed ECDSA P-256 with SHA-256.
    func signedCRL(registry: RevocationRegistry, thisUpdate: Date, nextUpdate: Date) throws(PKIError) -> [UInt8] {
        let ecdsaWithSHA256 = DERWriter.sequence(DERWriter.objectIdentifier([1, 2, 840, 10045, 4, 3, 2]))
        var issuer = DER.Serializer()
        do { try issuer.serialize(certificate.subject) } catch {
            throw .certificate(subject: commonName, detail: "cannot encode the CA's name: \(error)")
        }
        let entries = registry.revoked.map { entry in
            DERWriter.sequence(
                DERWriter.integer(unsignedBigEndian: RevocationRegistry.serialBytes(entry.serial)),
                DERWriter.time(entry.revokedAt),
                DERWriter.sequence(
                    DERWriter.sequence(
                        DERWriter.objectIdentifier([2, 5, 29, 21]), DERWriter.octetString(DERWriter.enumerated(entry.reason.code)))))
        }
        let keyID = Array(SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier)
        let extensions = DERWriter.sequence(
            DERWriter.sequence(
                DERWriter.objectIdentifier([2, 5, 29, 35]), DERWriter.octetString(DERWriter.sequence(DERWriter.tlv(0x80, keyID)))),
            DERWriter.sequence(
                DERWriter.objectIdentifier([2, 5, 29, 20]), DERWriter.octetString(DERWriter.integer(registry.nextCRLNumber))))
        var tbs = DERWriter.integer(1)  // v2
        tbs += ecdsaWithSHA256
        tbs += issuer.serializedBytes
        tbs += DERWriter.time(thisUpdate)
        tbs += DERWriter.time(nextUpdate)
        if !entries.isEmpty { tbs += DERWriter.sequence(of: entries) }
        tbs += DERWriter.explicit(0, extensions)
        let tbsCertList = DERWriter.tlv(0x30, tbs)
        let signature: [UInt8]
        do {
            let key = try P256.Signing.PrivateKey(pemRepresentation: try PKIFiles.read(keyFile))
            signature = Array(try key.signature(for: tbsCertList).derRepresentation)
        } catch let error as PKIError {
            throw error
        } catch {
            throw .invalidPEM(path: keyFile.path, detail: "cannot sign the CRL with it: \(error)")
        }
        return DERWriter.sequence(tbsCertList, ecdsaWithSHA256, DERWriter.bitString(signature))
    }
}
