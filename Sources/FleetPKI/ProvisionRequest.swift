public import Foundation

/// What `flotilla device provision` is asked to make.
public struct ProvisionRequest: Sendable {
    public var deviceID: String
    public var hardwareClass: String
    /// The fleet CA (`flotilla ca init --dir`).
    public var caDirectory: URL
    /// The bundle goes to `<outputDirectory>/<deviceID>/` and `<outputDirectory>/<deviceID>.tar.gz`.
    public var outputDirectory: URL
    /// nil: the URL `flotilla ca issue --server` recorded in the CA directory (`broker-url`).
    public var brokerURL: String?
    /// Coordinator public keys (Ed25519 PEM) the agent pins; copied into the bundle. At least
    /// one: the agent refuses to start without a pinned key.
    public var coordinatorKeys: [URL] = []
    /// A password instead of a client certificate, for devices that cannot hold one.
    public var password: Bool = false
    /// More CA certificates the device trusts for the broker's certificate, e.g. the new CA
    /// during a CA rotation (docs/security.md).
    public var extraTrustedCAs: [URL] = []
    public var validityDays: Int = CertificateAuthority.defaultLeafValidityDays
    /// The broker's acl.conf to append the device's block to; nil: only written to the bundle.
    public var aclFile: URL?
    /// Where the agent finds its files once installed.
    public var installDirectory: String = "/etc/flotilla"

    public init(deviceID: String, hardwareClass: String, caDirectory: URL, outputDirectory: URL) {
        self.deviceID = deviceID
        self.hardwareClass = hardwareClass
        self.caDirectory = caDirectory
        self.outputDirectory = outputDirectory
    }
}

/// Where provisioning put things.
public struct ProvisionedDevice: Sendable {
    /// `<out>/<id>/`: `device/` (the tree to unpack at / on the device) and `broker/`.
    public let directory: URL
    /// `device/<installDirectory>/agent.json`.
    public let agentConfig: URL
    public let certificate: URL?
    public let key: URL?
    /// `<out>/<id>.tar.gz`: `device/` packed, to unpack with `tar -xzpf … -C /`.
    public let tarball: URL
    /// `broker/acl-entry.conf`: the block appended to the broker's ACL file.
    public let aclEntry: URL
    /// `broker/passwd-line` (0600) when provisioned with a password.
    public let passwordFileLine: URL?
    /// Whether `aclFile` was changed (false: it had the block already, or none was given).
    public let aclAppended: Bool
}
