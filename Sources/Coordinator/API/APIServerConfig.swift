public import Foundation

/// How the HTTP API listens and what it accepts.
public struct APIServerConfig: Sendable {
    /// An IP address (`127.0.0.1`, `0.0.0.0`, `::1`, `::`); host names are not resolved.
    public var host: String
    /// 0 binds an ephemeral port (read it from `APIServer.port`).
    public var port: Int
    /// Operator name → bearer token.
    public var tokens: [String: String]
    /// `/metrics` without a token, for scrapers that cannot send one. Off by default.
    public var openMetrics: Bool
    /// Largest JSON request body (default 1 MiB).
    public var maxJSONBodyBytes: Int
    /// Largest upload (default 2 GiB).
    public var maxUploadBytes: Int
    /// Uploads are streamed into files here before `registerUpload` takes them.
    public var uploadDirectory: URL
    /// A request (an upload included) must be answered within this many seconds.
    public var requestTimeoutSeconds: Double

    public init(
        host: String = "127.0.0.1", port: Int = 8480, tokens: [String: String], openMetrics: Bool = false,
        maxJSONBodyBytes: Int = 1 << 20, maxUploadBytes: Int = 2 << 30, uploadDirectory: URL, requestTimeoutSeconds: Double = 600
    ) {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.openMetrics = openMetrics
        self.maxJSONBodyBytes = maxJSONBodyBytes
        self.maxUploadBytes = maxUploadBytes
        self.uploadDirectory = uploadDirectory
        self.requestTimeoutSeconds = requestTimeoutSeconds
    }

    /// The API part of the coordinator's config: `listen`, the token files, and
    /// `<dataDirectory>/uploads/incoming`.
    public init(_ config: CoordinatorConfig) {
        self.init(
            host: config.httpHost, port: config.httpPort, tokens: config.apiTokens,
            uploadDirectory: config.dataDirectory.appendingPathComponent("uploads/incoming", isDirectory: true))
    }
}

/// The API server cannot start.
public enum APIServerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidAddress(host: String, port: Int, detail: String)
    case bindFailed(host: String, port: Int, detail: String)
    case uploadDirectory(path: String, detail: String)
    case noTokens

    public var description: String {
        switch self {
        case .invalidAddress(let host, let port, let detail):
            "API server: cannot listen on '\(host):\(port)': \(detail); give an IP address like 127.0.0.1 or ::1 and a port 0–65535"
        case .bindFailed(let host, let port, let detail):
            "API server: cannot listen on \(host):\(port): \(detail); is another process using the port?"
        case .uploadDirectory(let path, let detail):
            "API server: cannot use upload directory '\(path)': \(detail)"
        case .noTokens:
            "API server: no operator tokens configured; every request would be refused (set apiTokenFiles)"
        }
    }
}
