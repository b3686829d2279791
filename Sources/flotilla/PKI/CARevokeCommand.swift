import ArgumentParser
import FleetPKI
import Foundation

/// `flotilla ca revoke`: puts a device's or coordinator's certificate on the CA's revocation
/// list and re-signs `crl.pem`, which the broker must then load (docs/security.md, "Revocation").
struct CARevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a certificate issued by the fleet CA (by file or serial) and re-sign the CRL.",
        discussion: """
            Writes DIR/revoked.json and DIR/crl.pem. Copy crl.pem to the broker \
            (/etc/mosquitto/flotilla/crl.pem) and reload it (SIGHUP): from then on the broker refuses the \
            certificate in the TLS handshake.
            """)

    @Option(name: .customLong("ca-dir"), help: ArgumentHelp("The fleet CA directory.", valueName: "DIR")) var caDir: String
    @Option(help: ArgumentHelp("The certificate to revoke (PEM), e.g. a device bundle's ID.crt.", valueName: "FILE")) var cert: String?
    @Option(help: ArgumentHelp("The serial number to revoke, hex (`openssl x509 -serial -noout -in FILE`).", valueName: "HEX"))
    var serial: String?
    @Option(
        help: ArgumentHelp(
            "Why: \(RevocationReason.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "REASON"))
    var reason: String = RevocationReason.unspecified.rawValue
    @Option(name: .customLong("crl-days"), help: "Days until the new CRL's nextUpdate.")
    var crlDays = CertificateAuthority.defaultCRLValidityDays

    func validate() throws {
        guard (cert == nil) != (serial == nil) else { throw ValidationError("give either --cert FILE or --serial HEX") }
        guard RevocationReason(rawValue: reason) != nil else {
            throw ValidationError(
                "--reason \(reason.debugDescription) is not one of \(RevocationReason.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let authority = try CertificateAuthority.load(from: URL(fileURLWithPath: caDir))
        let why = RevocationReason(rawValue: reason) ?? .unspecified
        let entry: RevokedCertificate
        if let cert {
            guard let data = FileManager.default.contents(atPath: cert) else {
                throw ValidationError("cannot read --cert \(cert); give the certificate file (PEM) or --serial HEX")
            }
            entry = try authority.revoke(
                certificatePEM: String(decoding: data, as: UTF8.self), source: cert, reason: why, crlValidityDays: crlDays)
        } else {
            entry = try authority.revoke(serial: serial ?? "", reason: why, crlValidityDays: crlDays)
        }
        let who = entry.commonName.map { " (\($0))" } ?? ""
        print("revoked serial \(entry.serial)\(who): \(entry.reason.rawValue)")
        print("wrote \(authority.crlFile.path); copy it to the broker's crl.pem and reload the broker (docs/security.md)")
    }
}

/// `flotilla ca crl`: re-signs the revocation list before its nextUpdate passes (a broker with an
/// expired CRL refuses every client certificate). Run it from a timer.
struct CACRL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Re-sign the fleet CA's revocation list (crl.pem) with a new nextUpdate.")

    @Option(name: .customLong("ca-dir"), help: ArgumentHelp("The fleet CA directory.", valueName: "DIR")) var caDir: String
    @Option(help: "Days until nextUpdate.") var days = CertificateAuthority.defaultCRLValidityDays

    func run() throws {
        let authority = try CertificateAuthority.load(from: URL(fileURLWithPath: caDir))
        let registry = try authority.writeCRL(validityDays: days)
        print(
            "wrote \(authority.crlFile.path): CRL number \(registry.nextCRLNumber - 1), \(registry.revoked.count) revoked, next update in \(days) days"
        )
    }
}
