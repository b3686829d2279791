public import Foundation
import Glibc

/// A private RabbitMQ (Debian's rabbitmq-server, MQTT plugin) on free 127.0.0.1 ports, for
/// testing Flotilla over an MQTT 3.1.1-only broker.
///
/// ```swift
/// guard RabbitMQBroker.isInstalled else { throw XCTSkip(RabbitMQBroker.notInstalledMessage) }
/// let broker = try await RabbitMQBroker.start()
/// // connect MQTT 3.1.1 clients to broker.host:broker.port …
/// try await broker.stop()
/// ```
///
/// Nothing is shared with a system RabbitMQ: the node has its own name and Erlang cookie, its
/// own data, log, config and enabled-plugins files in a temporary directory, and its own epmd —
/// a child process on a free port (`ERL_EPMD_PORT`), so an epmd already running on 4369 is
/// neither used nor disturbed. The Erlang distribution port is fixed to a free port and bound to
/// loopback. `stop()` shuts the node down with SIGTERM, then stops epmd; deinit and the test
/// process's exit kill whatever is left.
///
/// Sendable: every stored property is an immutable `let` of a Sendable type.
public final class RabbitMQBroker: TestBroker, Sendable {
    public let host: String = "127.0.0.1"
    /// The MQTT listener (`mqtt.listeners.tcp.default`).
    public let port: Int
    /// The AMQP 0-9-1 listener, bound so it does not clash with a system broker on 5672.
    public let amqpPort: Int
    /// The Erlang distribution port (`RABBITMQ_DIST_PORT`).
    public let distributionPort: Int
    /// The private epmd's port (`ERL_EPMD_PORT`).
    public let epmdPort: Int
    /// `flotilla-test-broker-…@localhost`.
    public let nodeName: String
    /// The broker's private directory, named `flotilla-test-broker-…`.
    public let directory: URL
    public let options: Options

    let node: Process
    let epmd: Process
    let serials: [Int]

    /// The broker's username and password; with `allowAnonymous` an MQTT client without
    /// credentials is logged in as this user.
    public struct Options: Sendable {
        public var username = "flotilla"
        public var password = "flotilla-test-password"
        public var allowAnonymous = true
        /// Raw `rabbitmq.conf` lines appended to the generated ones.
        public var extraConfig: [String] = []
        public init() {}
    }

    /// How long `start` waits for the MQTT listener to answer a CONNECT: a cold Erlang node
    /// with the plugin takes ~15 s on an idle 2-core machine.
    static let startTimeout: Duration = .seconds(120)
    /// How long `stop` waits after SIGTERM before SIGKILL.
    static let stopTimeout: Duration = .seconds(30)

    init(
        ports: RabbitMQPorts, nodeName: String, directory: URL, options: Options, node: Process, epmd: Process
    ) {
        self.port = ports.mqtt
        self.amqpPort = ports.amqp
        self.distributionPort = ports.distribution
        self.epmdPort = ports.epmd
        self.nodeName = nodeName
        self.directory = directory
        self.options = options
        self.node = node
        self.epmd = epmd
        var serials: [Int] = []
        for (process, port) in [(node, ports.mqtt), (epmd, ports.epmd)] {
            let serial = LiveBrokers.register(directory: directory, port: port)
            LiveBrokers.update(serial) { $0.process = process }
            serials.append(serial)
        }
        self.serials = serials
    }

    /// The server script Debian installs (`/usr/sbin/rabbitmq-server` is a wrapper that changes
    /// to the rabbitmq user and drops the environment this type sets), or
    /// `$FLOTILLA_RABBITMQ_SERVER`.
    public static var serverScript: URL? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["FLOTILLA_RABBITMQ_SERVER"], "/usr/lib/rabbitmq/bin/rabbitmq-server"]
        for case let path? in candidates where FileManager.default.isExecutableFile(atPath: path) {
            return URL(fileURLWithPath: path)
        }
        return nil
    }

    static var epmdExecutable: URL? {
        ["/usr/bin/epmd", "/usr/lib/erlang/bin/epmd", "/usr/local/bin/epmd"].first { FileManager.default.isExecutableFile(atPath: $0) }
            .map { URL(fileURLWithPath: $0) }
    }

    /// Whether rabbitmq-server and epmd are installed.
    public static var isInstalled: Bool { serverScript != nil && epmdExecutable != nil }

    /// For `XCTSkip` when the broker is not installed.
    public static let notInstalledMessage =
        "rabbitmq-server is not installed: apt-get install -y rabbitmq-server (Debian 12: RabbitMQ 3.10 with the MQTT plugin; scripts/test.sh installs it)"

    /// RabbitMQ's own log followed by what the node printed on its console.
    public var log: String {
        BrokerFiles.text(of: logFile) + "--- console ---\n" + BrokerFiles.text(of: consoleFile)
    }

    var logFile: URL { directory.appendingPathComponent("log/rabbit.log") }
    var consoleFile: URL { directory.appendingPathComponent("console.log") }

    func logTail(lines: Int = 40) -> String {
        log.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    deinit {
        for process in [node, epmd] where process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        for serial in serials { LiveBrokers.remove(serial) }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The four loopback ports one test RabbitMQ needs.
struct RabbitMQPorts: Sendable {
    var mqtt: Int
    var amqp: Int
    var distribution: Int
    var epmd: Int

    static func reserve() throws -> RabbitMQPorts {
        var taken = LiveBrokers.ports
        func next() throws -> Int {
            let port = try LoopbackPort.reserveFree(avoiding: taken)
            taken.insert(port)
            return port
        }
        return RabbitMQPorts(mqtt: try next(), amqp: try next(), distribution: try next(), epmd: try next())
    }
}
