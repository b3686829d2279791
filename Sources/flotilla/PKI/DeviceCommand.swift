import ArgumentParser
import FleetPKI
import Foundation

/// `flotilla device provision`: a device's certificate, agent config and installable bundle.
struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Provision devices (see `flotilla devices` for the fleet's live view).",
        subcommands: [DeviceProvision.self])
}

struct DeviceProvision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Make a device's key, certificate and agent config, packed as OUT/ID.tar.gz (unpack with tar -xzpf … -C /).")

    @Argument(help: "The device id (certificate CN and MQTT username).") var id: String
    @Option(name: .customLong("class"), help: ArgumentHelp("The device's hardware class.", valueName: "C")) var hardwareClass: String
    @Option(name: .customLong("ca-dir"), help: ArgumentHelp("The fleet CA directory.", valueName: "DIR")) var caDir: String
    @Option(help: ArgumentHelp("Where the bundle goes.", valueName: "DIR")) var out: String
    @Option(help: ArgumentHelp("mqtts://HOST:PORT (default: recorded by `ca issue --server`).", valueName: "URL")) var broker: String?
    @Option(
        name: .customLong("coordinator-key"), parsing: .upToNextOption,
        help: ArgumentHelp("Coordinator public key PEM file(s) the agent pins (at least one).", valueName: "PEM"))
    var coordinatorKeys: [String] = []
    @Option(
        name: .customLong("trust-ca"), parsing: .upToNextOption,
        help: ArgumentHelp("More CA certificates the device trusts for the broker (CA rotation).", valueName: "PEM"))
    var trustCA: [String] = []
    @Option(help: ArgumentHelp("The broker's acl.conf: append the device's block to it (then SIGHUP mosquitto).", valueName: "FILE"))
    var acl: String?
    @Flag(help: "Authenticate with a generated password instead of a certificate.") var password = false
    @Option(help: "Certificate validity in days.") var days = CertificateAuthority.defaultLeafValidityDays

    func run() throws {
        var request = ProvisionRequest(
            deviceID: id, hardwareClass: hardwareClass, caDirectory: URL(fileURLWithPath: caDir), outputDirectory: URL(fileURLWithPath: out)
        )
        request.brokerURL = broker
        request.coordinatorKeys = coordinatorKeys.map { URL(fileURLWithPath: $0) }
        request.extraTrustedCAs = trustCA.map { URL(fileURLWithPath: $0) }
        request.aclFile = acl.map { URL(fileURLWithPath: $0) }
        request.password = password
        request.validityDays = days
        let device = try DeviceProvisioner.provision(request)
        print("bundle: \(device.tarball.path) (install: tar -xzpf \(device.tarball.lastPathComponent) -C /)")
        print("agent config: \(device.agentConfig.path)")
        if let acl {
            print(
                device.aclAppended
                    ? "appended \(id)'s block to \(acl); reload the broker: systemctl reload mosquitto (SIGHUP)"
                    : "\(acl) already had \(id)'s block")
        } else {
            print("broker ACL: append \(device.aclEntry.path) to the broker's acl.conf, then reload mosquitto (SIGHUP)")
        }
        if let line = device.passwordFileLine {
            print("broker password: append \(line.path) to the broker's password file, then reload mosquitto (SIGHUP)")
        }
    }
}
