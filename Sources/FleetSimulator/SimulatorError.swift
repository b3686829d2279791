/// What stops a simulated fleet from being set up or started; each case names the thing and
/// says how to fix it.
public enum SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An option's value cannot be used (`option` as written on the command line).
    case invalidOption(option: String, value: String, detail: String)
    /// The process may not open enough files for this many MQTT connections.
    case openFileLimit(needed: Int, allowed: Int)
    /// A device's agent could not be built (data directory, config).
    case deviceSetupFailed(deviceID: String, detail: String)
    /// A device's MQTT connection could not be made.
    case connectFailed(deviceID: String, detail: String)

    public var description: String {
        switch self {
        case .invalidOption(let option, let value, let detail):
            "\(option) '\(value)': \(detail)"
        case .openFileLimit(let needed, let allowed):
            "the simulated fleet needs about \(needed) open files (3 per MQTT connection) but the process may open \(allowed); "
                + "raise the hard limit (ulimit -Hn, or LimitNOFILE= in a systemd unit) or simulate fewer devices"
        case .deviceSetupFailed(let id, let detail):
            "device \(id): the agent could not be set up: \(detail)"
        case .connectFailed(let id, let detail):
            "device \(id): cannot connect to the broker: \(detail)"
        }
    }
}
