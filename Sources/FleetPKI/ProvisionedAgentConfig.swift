/// The agent config provisioning writes: the fields of deploy/agent.example.json that depend on
/// the device; everything else keeps the agent's defaults (docs/agent.md). Key names are
/// AgentConfigFile's, which the tests parse it with.
struct ProvisionedAgentConfig: Encodable {
    struct TLSFiles: Encodable {
        var caFile: String
        var certFile: String?
        var keyFile: String?
    }

    var deviceId: String
    var brokerURL: String
    var tls: TLSFiles
    var username: String?
    var passwordFile: String?
    var dataDirectory: String = "/var/lib/flotilla-agent"
    /// Pinned, not detected: the broker ACL lets the device read this class's artifacts only.
    var hardwareClass: String
    var pinnedKeyFiles: [String]
    var socketPath: String = "/run/flotilla-agent/infer.sock"
}
