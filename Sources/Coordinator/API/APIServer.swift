import FlyingFox
import FlyingSocks
import Foundation
public import Logging

/// The coordinator's HTTP server: the JSON API under `/v1`, `/metrics`, `/healthz` and the
/// dashboard at `/`. Start it, read `port` (useful with port 0), stop it on shutdown.
public actor APIServer {
    public let config: APIServerConfig
    private let operations: any CoordinatorOperations
    private let logger: Logger
    private var server: HTTPServer?
    private var task: Task<Void, any Error>?
    /// The port actually bound, once started.
    public private(set) var port: Int?

    public init(config: APIServerConfig, operations: any CoordinatorOperations, logger: Logger = Logger(label: "flotilla.api")) {
        self.config = config
        self.operations = operations
        self.logger = logger
    }

    /// Binds and starts serving in the background; returns the bound port once listening.
    @discardableResult
    public func start() async throws(APIServerError) -> Int {
        if let port { return port }
        guard !config.tokens.isEmpty else { throw .noTokens }
        let address = try Self.address(host: config.host, port: config.port)
        do {
            try FileManager.default.createDirectory(
                at: config.uploadDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .uploadDirectory(path: config.uploadDirectory.path, detail: error.localizedDescription)
        }
        let handler = APIRequestHandler(
            config: config, authenticator: APIAuthenticator(tokens: config.tokens), operations: operations, logger: logger)
        // Bodies above the replay size are streamed from the socket instead of buffered; JSON
        // bodies (≤ maxJSONBodyBytes) stay within it.
        let serverConfig = HTTPServer.Configuration(
            address: address, timeout: config.requestTimeoutSeconds, sharedRequestBufferSize: 64 << 10,
            sharedRequestReplaySize: max(config.maxJSONBodyBytes, 64 << 10) + 1, logger: FlyingFoxLogBridge(logger: logger))
        let server = HTTPServer(config: serverConfig, handler: handler)
        let task = Task { try await server.run() }
        do {
            try await server.waitUntilListening(timeout: 10)
        } catch {
            task.cancel()
            let detail: String
            if case .failure(let runError) = await task.result { detail = "\(runError)" } else { detail = "\(error)" }
            throw .bindFailed(host: config.host, port: config.port, detail: detail)
        }
        let bound: Int
        switch await server.listeningAddress {
        case .ip4(_, let p)?, .ip6(_, let p)?: bound = Int(p)
        default: bound = config.port
        }
        self.server = server
        self.task = task
        self.port = bound
        logger.info("API listening on \(config.host):\(bound)")
        return bound
    }

    /// Stops accepting, lets requests in progress finish for up to `timeout` seconds, then
    /// cancels what is left. Idempotent.
    public func stop(timeout: Double = 3) async {
        guard let server, let task else { return }
        self.server = nil
        self.task = nil
        self.port = nil
        await server.stop(timeout: timeout)
        task.cancel()
        _ = await task.result
        logger.info("API stopped")
    }

    static func address(host: String, port: Int) throws(APIServerError) -> any SocketAddress {
        guard let p = UInt16(exactly: port) else { throw .invalidAddress(host: host, port: port, detail: "the port is outside 0–65535") }
        do {
            if host.contains(":") { return try sockaddr_in6.inet6(ip6: host, port: p) }
            if host == "localhost" { return try sockaddr_in.inet(ip4: "127.0.0.1", port: p) }
            return try sockaddr_in.inet(ip4: host, port: p)
        } catch {
            throw .invalidAddress(host: host, port: port, detail: "'\(host)' is not an IPv4 or IPv6 address")
        }
    }
}

/// FlyingFox's connection chatter at debug level; its errors as warnings.
struct FlyingFoxLogBridge: FlyingSocks.Logging {
    let logger: Logger
    func logDebug(_ debug: @autoclosure () -> String) { logger.trace("\(debug())") }
    func logInfo(_ info: @autoclosure () -> String) { logger.debug("\(info())") }
    func logWarning(_ warning: @autoclosure () -> String) { logger.warning("\(warning())") }
    func logError(_ error: @autoclosure () -> String) { logger.warning("\(error())") }
    // FlyingFox reports its listening socket closing on stop() as critical; bind failures reach
    // the caller of start() as APIServerError.
    func logCritical(_ critical: @autoclosure () -> String) { logger.warning("\(critical())") }
}
