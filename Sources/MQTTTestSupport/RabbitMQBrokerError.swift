/// Why a test RabbitMQ could not be started or stopped. The description says what went wrong
/// and how to fix it, with the broker's directory and the tail of its log.
public struct RabbitMQBrokerError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Equatable {
        /// rabbitmq-server or epmd is not installed.
        case notInstalled
        /// A file or directory of the broker could not be created or written.
        case fileSystem
        /// The broker (or its epmd) exited while starting.
        case brokerExited
        /// The broker kept running but its MQTT listener did not answer a CONNECT in time.
        case brokerNotReady
        /// The broker did not exit after SIGTERM in time and was killed.
        case brokerDidNotStop
    }

    public let code: Code
    public let message: String
    /// The broker's private directory (config, data, logs).
    public let directory: String?
    public let logTail: String?

    public init(_ code: Code, _ message: String, directory: String? = nil, logTail: String? = nil) {
        self.code = code
        self.message = message
        self.directory = directory
        self.logTail = logTail
    }

    public var description: String {
        var text = "RabbitMQBroker [\(code.rawValue)]: \(message)"
        if let directory { text += "\n  directory: \(directory)" }
        if let logTail, !logTail.isEmpty {
            text += "\n  broker log (tail):\n" + logTail.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n")
        }
        return text
    }
}
