import ArgumentParser
import FleetPKI
import Foundation

/// `flotilla ca init|issue|revoke|crl`: the fleet CA, the broker's and coordinators'
/// certificates, and the revocation list the broker checks (docs/security.md).
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Create the fleet CA, issue broker and coordinator certificates, revoke certificates.",
        subcommands: [CAInit.self, CAIssue.self, CARevoke.self, CACRL.self])
}

struct CAInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a fleet CA (ca.key 0600, ca.crt) in DIR; refuses to overwrite one.")

    @Option(help: ArgumentHelp("The CA directory (created 0700).", valueName: "DIR")) var dir: String
    @Option(help: "The CA's common name.") var name = "Flotilla Fleet CA"
    @Option(help: "Validity in days.") var days = CertificateAuthority.defaultValidityDays

    func run() throws {
        let authority = try CertificateAuthority.create(in: URL(fileURLWithPath: dir), commonName: name, validityDays: days)
        print(
            "created \(authority.keyFile.path) (0600), \(authority.certificateFile.path) and \(authority.crlFile.path) (empty revocation list)"
        )
        print("keep ca.key offline or at least off the broker; the broker and devices need ca.crt only")
    }
}

struct CAIssue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue the broker's server certificate (--server) or a coordinator's client certificate (--client).")

    @Option(name: .customLong("ca-dir"), help: ArgumentHelp("The fleet CA directory.", valueName: "DIR")) var caDir: String
    @Option(
        help: ArgumentHelp(
            "Broker certificate for these names (repeatable; DNS names or IP addresses clients connect to).", valueName: "NAME"))
    var server: [String] = []
    @Option(help: ArgumentHelp("Client certificate with this common name, e.g. coordinator-1.", valueName: "NAME"))
    var client: String?
    @Option(help: ArgumentHelp("Where to write NAME.crt and NAME.key (default: the CA directory).", valueName: "DIR")) var out: String?
    @Option(help: "Validity in days.") var days = CertificateAuthority.defaultLeafValidityDays

    func validate() throws {
        guard server.isEmpty != (client == nil) else { throw ValidationError("give either --server NAME... or --client NAME") }
    }

    func run() throws {
        let caURL = URL(fileURLWithPath: caDir)
        let authority = try CertificateAuthority.load(from: caURL)
        let directory = out.map { URL(fileURLWithPath: $0) } ?? caURL
        if let client {
            // Only coordinator identities are issued here: a device gets its certificate with
            // its bundle and ACL entry from `flotilla device provision`.
            try FleetIdentity.validateCoordinator(client)
            let files = try authority.issue(.client(commonName: client), validityDays: days).write(to: directory, stem: client)
            print("issued \(files.certificate.path) and \(files.key.path) (0600) for \(client)")
            print("the shipped acl.conf grants coordinator-1 and coordinator-2; add a `user \(client)` block for others (docs/security.md)")
        } else {
            let stem = "broker"
            let files = try authority.issue(.server(names: server), validityDays: days).write(to: directory, stem: stem)
            print("issued \(files.certificate.path) and \(files.key.path) (0600) for \(server.joined(separator: ", "))")
            let urlFile = caURL.appendingPathComponent(DeviceProvisioner.brokerURLFileName)
            if !FileManager.default.fileExists(atPath: urlFile.path), let host = server.first {
                let url = host.contains(":") ? "mqtts://[\(host)]:8883" : "mqtts://\(host):8883"
                try Data((url + "\n").utf8).write(to: urlFile)
                print("devices provisioned from this CA will connect to \(url) (edit \(urlFile.path) to change it)")
            }
        }
    }
}
