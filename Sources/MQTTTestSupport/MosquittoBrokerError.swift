/// Why a test broker, or the certificates or tools it needs, could not be had.
///
/// The description says what went wrong, names the file or tool, and says how to fix it; for
/// broker failures it carries the config path and the tail of the broker's own log, so a failing
/// test prints the reason instead of a timeout.
public struct MosquittoBrokerError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Equatable {
        /// A command-line tool (mosquitto, mosquitto_passwd, openssl) is not installed.
        case toolMissing
        /// A command-line tool ran and exited non-zero.
        case toolFailed
        /// The options cannot be turned into a valid broker config.
        case invalidOptions
        /// A file or directory of the broker could not be created, written or read.
        case fileSystem
        /// The broker process exited while starting.
        case brokerExited
        /// The broker kept running but did not accept connections in time.
        case brokerNotReady
        /// The broker could not bind its port because another process holds it.
        case portInUse
        /// The broker did not exit after SIGTERM in time and was killed.
        case brokerDidNotStop
    }

    public let code: Code
    /// What went wrong and how to fix it.
    public let message: String
    /// The generated mosquitto config, when the failure concerns a broker.
    public let configPath: String?
    /// The last lines of the broker's log and console output, when there are any.
    public let logTail: String?

    public init(_ code: Code, _ message: String, configPath: String? = nil, logTail: String? = nil) {
        self.code = code
        self.message = message
        self.configPath = configPath
        self.logTail = logTail
    }

    public var description: String {
        var text = "MosquittoBroker [\(code.rawValue)]: \(message)"
        if let configPath { text += "\n  config: \(configPath)" }
        if let logTail, !logTail.isEmpty {
            let indented = logTail.split(separator: "\n", omittingEmptySubsequences: false)
                .map { "    \($0)" }.joined(separator: "\n")
            text += "\n  broker log (tail):\n\(indented)"
        }
        return text
    }
}
