extension MosquittoBroker {
    /// How the test broker is configured. The defaults give an anonymous plaintext broker
    /// without persistence.
    public struct Options: Sendable {
        /// nil: a plaintext listener; otherwise TLS with certificates made by `TestCertificates`.
        public var tls: TLSMode? = nil
        /// username → password; non-empty ⇒ a password_file and `allow_anonymous false`.
        public var users: [String: String] = [:]
        /// Overrides the anonymous policy (default: anonymous allowed only without `users`).
        public var allowAnonymous: Bool? = nil
        /// Contents of an acl_file (`topic`, `user` and `pattern` lines, mosquitto's syntax).
        public var acl: String? = nil
        /// Saves retained messages and sessions in the broker's directory on stop(), so they
        /// survive restart(); kill() skips the save, as a crash would.
        public var persistence: Bool = false
        /// Raw config lines appended after the generated ones (e.g. "max_queued_messages 10000").
        public var extraConfig: [String] = []
        /// The `log_type` lines. The default leaves out `debug`, which logs every packet and
        /// slows a broker under benchmark load; set ["all"] to see packets in the log.
        public var logTypes: [String] = ["error", "warning", "notice", "information", "subscribe", "unsubscribe"]

        public init() {}

        /// Whether anonymous clients are let in, once the override is applied.
        var effectiveAllowAnonymous: Bool { allowAnonymous ?? users.isEmpty }

        /// Rejects what would make mosquitto_passwd or the config parser fail later with a
        /// less helpful message.
        func validate() throws {
            for (user, password) in users {
                if user.isEmpty || user.contains(":") || user.contains(where: { $0.isWhitespace || $0.isNewline }) {
                    throw MosquittoBrokerError(
                        .invalidOptions,
                        "username \(user.debugDescription) cannot go in a mosquitto password file; use a non-empty name without ':' or whitespace"
                    )
                }
                if password.contains(where: { $0.isNewline }) {
                    throw MosquittoBrokerError(
                        .invalidOptions,
                        "the password of user \(user.debugDescription) contains a line break; mosquitto_passwd cannot store it")
                }
            }
            for logType in logTypes where !Self.knownLogTypes.contains(logType) {
                throw MosquittoBrokerError(
                    .invalidOptions,
                    "log type \(logType.debugDescription) is unknown to mosquitto; use some of \(Self.knownLogTypes.sorted().joined(separator: ", "))"
                )
            }
        }

        static let knownLogTypes: Set<String> = [
            "debug", "error", "warning", "notice", "information", "subscribe", "unsubscribe", "websockets", "none", "all",
        ]
    }

    /// TLS on the broker's only listener.
    public enum TLSMode: Sendable {
        /// The broker presents a certificate; clients need only the CA to trust it.
        case serverOnly
        /// Clients must also present a certificate signed by the CA (`require_certificate true`).
        case requireClientCertificate
    }
}
