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
    // Proof: `process` is replaced only by `restart()`, which a test calls from its one task;
    // nothing else touches the broker concurrently.
    let directory: URL
    let certificatePort: Int
    let passwordPort: Int
    let acl: URL
    let passwords: URL
    let caBundle: URL
    /// The broker's `crl.pem`: one CRL per CA in `caBundle`.
    let crl: URL
    private var process: Process
    private let log: URL
    private let executable: URL
    private let configFile: URL

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    static var shippedDirectory: URL { repositoryRoot.appendingPathComponent("deploy/mosquitto") }

    /// `caPEMs`: the broker's `ca.pem` (one CA, or old + new during a CA rotation);
    /// `crlPEMs`: its `crl.pem` (each CA's revocation list; the shipped config requires it).
    /// `server`: the broker certificate; `passwordLines`: the `passwd` file's lines;
    /// `prepareACL` edits the copied acl.conf before the broker starts (provisioning appends).
    init(
        in directory: URL, caPEMs: [String], crlPEMs: [String], server: IssuedCertificate, passwordLines: [String] = [],
        prepareACL: (URL) throws -> Void = { _ in }
    ) throws {
        // The name puts "flotilla-test-broker" in mosquitto's command line, where CI's cleanup
        // (`pkill -f flotilla-test-broker` in scripts/test.sh) finds it if the runner crashes.
        let directory = directory.appendingPathComponent("flotilla-test-broker-shipped", isDirectory: true)
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificatePort = try LoopbackPort.reserveFree()
        passwordPort = try LoopbackPort.reserveFree(avoiding: [certificatePort])
        acl = directory.appendingPathComponent("acl.conf")
        passwords = directory.appendingPathComponent("passwd")
        caBundle = directory.appendingPathComponent("ca.pem")
        crl = directory.appendingPathComponent("crl.pem")
        log = directory.appendingPathComponent("mosquitto.log")
        try FileManager.default.copyItem(at: Self.shippedDirectory.appendingPathComponent("acl.conf"), to: acl)
        try prepareACL(acl)
        try Data(caPEMs.joined().utf8).write(to: caBundle)
        try Data(crlPEMs.joined().utf8).write(to: crl)
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
        self.executable = URL(fileURLWithPath: executable)
        self.configFile = configFile
        process = Process()  // not started; replaced on the next line
        process = try launch()
    }

    /// Starts mosquitto on the templated config; returns once both listeners accept TCP (a
    /// config error makes mosquitto exit at once).
    private func launch() throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-c", configFile.path]
        let console = directory.appendingPathComponent("console.log")
        if !FileManager.default.fileExists(atPath: console.path) {
            _ = FileManager.default.createFile(atPath: console.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: console)
        try handle.seekToEnd()
        process.standardOutput = handle
        process.standardError = handle
        try ChildProcess.launch(process)
        for _ in 0..<500 {
            if LoopbackPort.acceptsConnections(certificatePort), LoopbackPort.acceptsConnections(passwordPort) { return process }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        let output = (try? String(contentsOf: console, encoding: .utf8)) ?? ""
        Self.terminate(process)
        throw ShippedBrokerError("the shipped mosquitto config did not come up:\n\(output)\n\(logText)")
    }

    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Sends SIGHUP, as `systemctl reload mosquitto` does, and returns once the broker logged
    /// the reload: it handles signals on its one event-loop thread, so every packet it reads
    /// after that line is judged by the reloaded files.
    func reloadAndWait() async throws {
        let before = logText.components(separatedBy: "Reloading config").count
        kill(process.processIdentifier, SIGHUP)
        for _ in 0..<500 {
            if logText.components(separatedBy: "Reloading config").count > before { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ShippedBrokerError("mosquitto did not log a reload after SIGHUP:\n\(logText)")
    }

    /// Stops and starts mosquitto on the same config and ports, as `systemctl restart
    /// mosquitto` does: what a changed `cafile` needs (Mosquitto 2.0 reloads the certificate and
    /// key on SIGHUP, not the CA file).
    func restart() throws {
        stop()
        process = try launch()
    }

    func stop() { Self.terminate(process) }

    static func terminate(_ process: Process) {
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
