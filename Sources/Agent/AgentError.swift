/// What the agent refuses or fails at, naming the thing and how to fix it.
public enum AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfig(field: String, detail: String)
    case fileOperationFailed(path: String, operation: String, detail: String)
    case corruptStateFile(path: String, detail: String)
    case noModelServing
    case inferenceFailed(detail: String)

    public var description: String {
        switch self {
        case .invalidConfig(let field, let detail):
            return "agent configuration: '\(field)' \(detail); fix it in the config file (see deploy/agent.example.json)"
        case .fileOperationFailed(let path, let operation, let detail):
            return "\(operation) '\(path)' failed: \(detail); check the data directory's permissions and free space"
        case .corruptStateFile(let path, let detail):
            return "state file '\(path)' cannot be read (\(detail)); move it aside to start from a clean state"
        case .noModelServing:
            return "no model is serving yet; wait until the agent has committed a release (see its state report)"
        case .inferenceFailed(let detail):
            return "inference failed: \(detail)"
        }
    }
}
