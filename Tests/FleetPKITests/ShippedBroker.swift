import FleetPKI
import Foundation
import Glibc
import MQTTTestSupport
import XCTest

/// Mosquitto started with deploy/mosquitto/flotilla.conf and acl.conf as shipped, templated
/// only for paths, ports, the run-as user and the log destination. Every substitution must
/// match, so a change to the shipped files that the template no longer covers fails loudly
/// instead of testing something else.
final class ShippedBroker: @unchecked Sendable {
    // Proof: `process` is set once in init and only read after; tests use one broker per task.
    let directory: URL
    let certificatePort: Int
    let passwordPort: Int
    let acl: URL
    let passwords: URL
    let caBundle: URL
    private let process: Process
    private let log: URL

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var shippedDirectory: URL { repositoryRoot.appendingPathComponent("deploy/mosquitto") }

    /// `caPEMs`: the broker's `ca.pem` (one CA, or old + new during a CA rotation).
    /// `server`: the broker certificate; `passwordLines`: the `passwd` file's lines;
    /// `prepareACL` edits the copied acl.conf before the broker starts (provisioning appends).
    init(
        in directory: URL, caPEMs: [String], server: IssuedCertificate, passwordLines: [String] = [],
        prepareACL: (URL) throws -> Void = { _ in }
    ) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificatePort = try LoopbackPort.reserveFree()
        passwordPort = try LoopbackPort.reserveFree(avoiding: [certificatePort])
        acl = directory.appendingPathComponent("acl.conf")
        passwords = directory.appendingPathComponent("passwd")
        caBundle = directory.appendingPathComponent("ca.pem")
        log = directory.appendingPathComponent("mosquitto.log")
        try FileManager.default.copyItem(at: Self.shippedDirectory.appendingPathComponent("acl.conf"), to: acl)
        try prepareACL(acl)
        try Data(caPEMs.joined().utf8).write(to: caBundle)
        try server.write(to: directory, stem: "broker")
        try Data(passwordLines.map { $0 + "\n" }.joined().utf8).write(to: passwords)

        var config = try String(contentsOf: Self.shippedDirectory.appendingPathComponent("flotilla.conf"), encoding: .utf8)
        let persistence = directory.appendingPathComponent("persistence")
        try FileManager.default.createDirectory(at: persistence, withIntermediateDirectories: true)
        // Started as root, mosquitto would switch to the mosquitto user, which cannot read
        // this root-owned directory.
        let user = geteuid() == 0 ? "root" : String(cString: getpwuid(geteuid()).pointee.pw_name)
        for (shipped, test) in [
            ("/etc/mosquitto/flotilla/", directory.path + "/"),
            ("listener 8883\n", "listener \(certificatePort) 127.0.0.1\n"),
            ("listener 8884\n", "listener \(passwordPort) 127.0.0.1\n"),
            ("user mosquitto\n", "user \(user)\n"),
            ("persistence_location /var/lib/mosquitto/\n", "persistence_location \(persistence.path)/\n"),
            ("log_dest syslog\n", "log_dest file \(log.path)\n"),
        ] {
            guard config.contains(shipped) else {
                throw ShippedBrokerError(
                    "deploy/mosquitto/flotilla.conf no longer contains \(shipped.debugDescription); update ShippedBroker's template")
            }
            config = config.replacingOccurrences(of: shipped, with: test)
        }
        let configFile = directory.appendingPathComponent("flotilla.conf")
        try Data(config.utf8).write(to: configFile)

        let executable = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let executable else { throw ShippedBrokerError("mosquitto is not installed; Debian: apt-get install -y mosquitto") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", configFile.path]
        let console = directory.appendingPathComponent("console.log")
        _ = FileManager.default.createFile(atPath: console.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: console)
        process.standardError = process.standardOutput
        try ChildProcess.launch(process)
        // Up when both listeners accept TCP; a config error makes mosquitto exit at once.
        for _ in 0..<500 {
            if LoopbackPort.acceptsConnections(certificatePort), LoopbackPort.acceptsConnections(passwordPort) { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        let output = (try? String(contentsOf: console, encoding: .utf8)) ?? ""
        stop()
        throw ShippedBrokerError("the shipped mosquitto config did not come up:\n\(output)\n\(logText)")
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Reloads acl.conf, passwd and the CA file, as `systemctl reload mosquitto` does.
    func reload() {
        kill(process.processIdentifier, SIGHUP)
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    deinit { stop() }
}

struct ShippedBrokerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
