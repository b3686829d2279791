public import Foundation
import ModelArtifact

/// `flotilla device provision`: a device's key and certificate from the fleet CA, its agent
/// config, the trust files it needs, an installable tarball, and the broker-side entries
/// (ACL block, password line).
public enum DeviceProvisioner {
    /// Name of the file in the CA directory holding the broker URL devices are given by default.
    public static let brokerURLFileName = "broker-url"
    /// Port of the password listener in deploy/mosquitto/flotilla.conf.
    public static let passwordListenerPort = 8884

    public static func provision(_ request: ProvisionRequest, now: Date = Date()) throws(PKIError) -> ProvisionedDevice {
        let id = request.deviceID
        try FleetIdentity.validateDevice(id)
        try FleetIdentity.validateClass(request.hardwareClass)
        try Validity.check(days: request.validityDays, option: "--days")
        guard request.installDirectory.hasPrefix("/"), !request.installDirectory.contains("..") else {
            throw .invalidOption(name: "install directory", detail: "\(request.installDirectory) must be an absolute path without '..'")
        }
        guard !request.coordinatorKeys.isEmpty else {
            throw .invalidOption(
                name: "--coordinator-key",
                detail:
                    "no coordinator public key given; the agent refuses to start without one to pin. Pass the PEM of `flotilla-coordinator keys export`"
            )
        }
        let authority = try CertificateAuthority.load(from: request.caDirectory)
        let brokerURL = try resolveBrokerURL(request)
        let root = request.outputDirectory.appendingPathComponent(id, isDirectory: true)
        let tarball = request.outputDirectory.appendingPathComponent("\(id).tar.gz")
        for existing in [root, tarball] where PKIFiles.exists(existing) {
            throw .alreadyExists(
                path: existing.path,
                hint:
                    "Device \(id) was provisioned before; to re-provision it (new key, e.g. after CA rotation) move the old bundle away first"
            )
        }
        // Checked before anything is written, so a conflict leaves no half bundle behind.
        if let acl = request.aclFile {
            let text = try PKIFiles.read(acl)
            if let existing = BrokerACL.topics(of: id, in: text),
                existing != BrokerACL.deviceTopicLines(hardwareClass: request.hardwareClass)
            {
                throw .aclConflict(
                    path: acl.path, user: id,
                    detail: "it grants \(existing.joined(separator: "; ")); if the device moved class, delete its block first")
            }
        }
        var pinned: [ArtifactPublicKey] = []
        for url in request.coordinatorKeys {
            for key in try readPinnedKeys(url) where !pinned.contains(key) { pinned.append(key) }
        }
        let trusted = try [authority.certificatePEM] + request.extraTrustedCAs.map { url throws(PKIError) in try readCertificatePEM(url) }

        // A run that fails half-way leaves nothing, so running it again after the fix works
        // (the key it made was never handed out).
        var finished = false
        defer {
            if !finished {
                try? FileManager.default.removeItem(at: root)
                try? FileManager.default.removeItem(at: tarball)
            }
        }
        let device = root.appendingPathComponent("device", isDirectory: true)
        let installed = device.appendingPathComponent(String(request.installDirectory.dropFirst()), isDirectory: true)
        let broker = root.appendingPathComponent("broker", isDirectory: true)
        try PKIFiles.makeDirectory(installed)
        try PKIFiles.makeDirectory(broker, mode: 0o700)
        let hint = "the bundle directory \(root.path) is being written by another run"
        func installPath(_ name: String) -> String { request.installDirectory + "/" + name }

        try PKIFiles.create(
            installed.appendingPathComponent("ca.pem"), contents: trusted.joined(), mode: PKIFiles.publicMode, hint: hint)
        // One file per key, named by key id: the agent reads one key per pinned file, and
        // `flotilla-coordinator keys export` writes several keys into one.
        let keyNames = pinned.map { "\($0.keyID).pub.pem" }
        let keysDirectory = installed.appendingPathComponent("coordinator-keys", isDirectory: true)
        try PKIFiles.makeDirectory(keysDirectory)
        for (key, name) in zip(pinned, keyNames) {
            try PKIFiles.create(
                keysDirectory.appendingPathComponent(name), contents: key.pemRepresentation, mode: PKIFiles.publicMode, hint: hint)
        }
        var config = ProvisionedAgentConfig(
            deviceId: id, brokerURL: brokerURL, tls: .init(caFile: installPath("ca.pem")), hardwareClass: request.hardwareClass,
            pinnedKeyFiles: keyNames.map { installPath("coordinator-keys/" + $0) })
        var files: (certificate: URL, key: URL)?
        var passwordLine: URL?
        if request.password {
            let secret = MosquittoPassword.generate(for: id)
            try PKIFiles.create(
                installed.appendingPathComponent("broker-password"), contents: secret.password + "\n", mode: PKIFiles.privateMode,
                hint: hint)
            let line = broker.appendingPathComponent("passwd-line")
            try PKIFiles.create(line, contents: secret.passwordFileLine + "\n", mode: PKIFiles.privateMode, hint: hint)
            passwordLine = line
            config.username = id
            config.passwordFile = installPath("broker-password")
        } else {
            let issued = try authority.issue(.client(commonName: id), validityDays: request.validityDays, now: now)
            files = try issued.write(to: installed, stem: id)
            config.tls.certFile = installPath("\(id).crt")
            config.tls.keyFile = installPath("\(id).key")
        }
        let configFile = installed.appendingPathComponent("agent.json")
        try PKIFiles.create(configFile, contents: try encode(config), mode: PKIFiles.publicMode, hint: hint)
        let entry = broker.appendingPathComponent("acl-entry.conf")
        try PKIFiles.create(
            entry, contents: BrokerACL.deviceEntry(deviceID: id, hardwareClass: request.hardwareClass), mode: PKIFiles.publicMode,
            hint: hint)

        try Tarball.create(tarball, from: device, member: String(request.installDirectory.dropFirst()))
        var appended = false
        if let acl = request.aclFile { appended = try BrokerACL.append(deviceID: id, hardwareClass: request.hardwareClass, to: acl) }
        finished = true
        return ProvisionedDevice(
            directory: root, agentConfig: configFile, certificate: files?.certificate, key: files?.key, tarball: tarball, aclEntry: entry,
            passwordFileLine: passwordLine, aclAppended: appended)
    }

    static func resolveBrokerURL(_ request: ProvisionRequest) throws(PKIError) -> String {
        var url: String
        if let given = request.brokerURL {
            url = given
        } else {
            let file = request.caDirectory.appendingPathComponent(brokerURLFileName)
            guard PKIFiles.exists(file) else {
                throw .invalidOption(
                    name: "--broker",
                    detail:
                        "not given, and \(file.path) does not exist; pass --broker mqtts://HOST:8883 or issue the broker certificate first (`flotilla ca issue --server HOST`)"
                )
            }
            url = try PKIFiles.read(file).trimmingCharacters(in: .whitespacesAndNewlines)
            // The recorded URL is the certificate listener's; password clients use the other.
            if request.password, url.hasSuffix(":8883") { url = String(url.dropLast(4)) + "\(passwordListenerPort)" }
        }
        guard url.hasPrefix("mqtts://") else {
            throw .invalidOption(
                name: "--broker",
                detail: "\(url) is not an mqtts:// URL; the fleet broker accepts TLS only (deploy/mosquitto/flotilla.conf)")
        }
        return url
    }

    static func encode(_ config: ProvisionedAgentConfig) throws(PKIError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try encoder.encode(config), as: UTF8.self) + "\n" } catch {
            throw .io(path: "agent.json", operation: "encode", detail: "\(error)")
        }
    }

    /// The Ed25519 public keys in a PEM file (one or several blocks).
    static func readPinnedKeys(_ url: URL) throws(PKIError) -> [ArtifactPublicKey] {
        let text = try PKIFiles.read(url)
        guard !text.contains("PRIVATE KEY") else {
            throw .invalidPEM(
                path: url.path,
                detail: "it holds a private key; pin public keys only (`flotilla-coordinator keys export`), never a private one")
        }
        let end = "-----END PUBLIC KEY-----"
        let blocks = text.components(separatedBy: end).dropLast().map { $0 + end + "\n" }
        guard !blocks.isEmpty else {
            throw .invalidPEM(path: url.path, detail: "no PUBLIC KEY block; expected the output of `flotilla-coordinator keys export`")
        }
        var keys: [ArtifactPublicKey] = []
        for (index, block) in blocks.enumerated() {
            do { keys.append(try ArtifactPublicKey(pemRepresentation: block)) } catch {
                throw .invalidPEM(path: url.path, detail: "key \(index + 1) is not an Ed25519 public key: \(error)")
            }
        }
        return keys
    }

    static func readCertificatePEM(_ url: URL) throws(PKIError) -> String {
        let text = try PKIFiles.read(url)
        guard text.contains("-----BEGIN CERTIFICATE-----"), !text.contains("PRIVATE KEY") else {
            throw .invalidPEM(path: url.path, detail: "expected a CA certificate (ca.crt of `flotilla ca init`)")
        }
        return text.hasSuffix("\n") ? text : text + "\n"
    }
}
