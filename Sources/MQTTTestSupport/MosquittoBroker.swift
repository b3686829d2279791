public import Foundation
import Glibc
import Synchronization

/// A real Mosquitto broker on a free 127.0.0.1 port, in its own temporary directory, for tests
/// and benchmarks.
///
/// ```swift
/// let broker = try await MosquittoBroker.start()
/// // connect clients to broker.host:broker.port …
/// try await broker.stop()
/// ```
///
/// The broker is killed and its directory removed when the object is released, and at the
/// latest when the test process exits. Lifecycle calls (`stop`, `kill`, `restart`) are meant to
/// come from one task at a time; they are safe to call concurrently, but two concurrent
/// restarts race for the same port and one of them fails with `.portInUse`.
///
/// Sendable: every stored property is an immutable `let` of a Sendable type, and the one mutable
/// part (port and process) lives in a `Mutex`, so the compiler checks this conformance.
public final class MosquittoBroker: Sendable {
    /// Always "127.0.0.1": the listener is bound to loopback only.
    public let host: String = "127.0.0.1"
    /// The broker's private temporary directory (config, log, persistence, certificates), named
    /// `flotilla-test-broker-…`.
    public let directory: URL
    /// The PKI the TLS listener uses, when `options.tls` is set.
    public let certificates: TestCertificates?
    /// The options the broker was started with.
    public let options: Options

    let files: BrokerFiles
    let executable: CommandLineTool
    let serial: Int
    let state: Mutex<State>

    struct State {
        var port: Int
        var process: Process?
        var keepDirectory = false
    }

    /// How long `start` and `restart` wait for the port to accept connections.
    static let startTimeout: Duration = .seconds(10)
    /// How long `stop` waits after SIGTERM (mosquitto saves its database first) before SIGKILL.
    static let stopTimeout: Duration = .seconds(15)
    /// Poll interval while waiting for the broker to come up or go away.
    static let pollInterval: Duration = .milliseconds(20)

    private init(options: Options, files: BrokerFiles, certificates: TestCertificates?, executable: CommandLineTool) {
        self.options = options
        self.files = files
        self.directory = files.directory
        self.certificates = certificates
        self.executable = executable
        self.serial = LiveBrokers.register(directory: files.directory, port: 0)
        self.state = Mutex(State(port: 0))
    }

    /// Starts a broker and returns once its port accepts TCP connections.
    ///
    /// Raises this process's open-file soft limit to the hard limit first (the broker inherits
    /// it): a thousand clients need more than 3000 descriptors. Throws `MosquittoBrokerError`
    /// with the broker's log tail and config path when the broker exits or does not come up
    /// within 10 s; the directory is then kept for inspection.
    public static func start(_ options: Options = .init()) async throws -> MosquittoBroker {
        try options.validate()
        OpenFileLimit.raiseSoftLimitToHardLimit()
        let executable = try CommandLineTool.locate("mosquitto", overrideVariable: "FLOTILLA_MOSQUITTO", package: "mosquitto")
        let (files, certificates) = try await BlockingWork.run {
            let files = try BrokerFiles.makeDirectory()
            do {
                return (files, try prepareFiles(options, in: files))
            } catch {
                try? FileManager.default.removeItem(at: files.directory)
                throw error
            }
        }
        let broker = MosquittoBroker(options: options, files: files, certificates: certificates, executable: executable)
        try await broker.launchOnFreePort()
        return broker
    }

    /// The loopback port; it stays the same across `restart()`.
    public var port: Int { state.withLock { $0.port } }

    /// Whether the broker process is alive (false after stop() or kill() returned).
    public var isRunning: Bool { state.withLock { $0.process?.isRunning ?? false } }

    /// The broker's process id while it runs, for tests that inspect the process itself.
    public var processIdentifier: Int32? {
        state.withLock { state in
            guard let process = state.process, process.isRunning else { return nil }
            return process.processIdentifier
        }
    }

    /// The generated mosquitto.conf.
    public var configurationFile: URL { files.config }

    /// The broker's log so far (across restarts), followed by anything it printed on its
    /// console, for failure messages.
    public var log: String {
        let log = BrokerFiles.text(of: files.log)
        let console = BrokerFiles.text(of: files.console)
        guard !console.isEmpty else { return log }
        return log + "--- mosquitto stdout/stderr ---\n" + console
    }

    deinit {
        let (process, keepDirectory) = state.withLock { ($0.process, $0.keepDirectory) }
        if let process, process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        LiveBrokers.remove(serial)
        if !keepDirectory {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}
