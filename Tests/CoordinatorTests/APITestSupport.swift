import Coordinator
import Foundation
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A `CoordinatorOperations` for HTTP tests: records every call with its actor and answers
/// from `APIFixtures`; ids starting with "missing" are 404, rollout "done" refuses control (409).
actor RecordingOperations: CoordinatorOperations {
    struct Call: Equatable {
        var operation: String
        var actor: String?
        var argument: String
    }

    private(set) var calls: [Call] = []
    private(set) var uploads: [APIReceivedUpload] = []
    /// Where registered uploads are moved to (the file survives the request).
    let storeDirectory: URL

    init(storeDirectory: URL) { self.storeDirectory = storeDirectory }

    private func record(_ operation: String, _ actor: String?, _ argument: String = "") {
        calls.append(Call(operation: operation, actor: actor, argument: argument))
    }

    func listDevices(_ query: APIDeviceQuery, actor: String) async throws -> [APIDevice] {
        record("listDevices", actor, "\(query.selector ?? "-")|\(query.hardwareClass ?? "-")|\(query.online.map { "\($0)" } ?? "-")")
        return APIFixtures.devices.filter { query.hardwareClass == nil || $0.hardwareClass == query.hardwareClass }
    }

    func device(id: String, actor: String) async throws -> APIDevice {
        record("device", actor, id)
        guard let d = APIFixtures.devices.first(where: { $0.id == id }) else { throw APIError.notFound("no device '\(id)'") }
        return d
    }

    func updateLabels(deviceID: String, change: APILabelChange, actor: String) async throws -> APIDevice {
        record(
            "updateLabels", actor,
            "\(deviceID)|\(change.set.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))|\(change.remove.joined(separator: ","))"
        )
        guard var d = APIFixtures.devices.first(where: { $0.id == deviceID }) else { throw APIError.notFound("no device '\(deviceID)'") }
        for (k, v) in change.set { d.labels[k] = v }
        for k in change.remove { d.labels[k] = nil }
        return d
    }

    func registerUpload(_ file: APIReceivedUpload, actor: String) async throws -> APIUpload {
        record("registerUpload", actor, "\(file.kind.rawValue)|\(file.fileName)|\(file.size)")
        let id = "u\(uploads.count + 1)"
        try FileManager.default.createDirectory(at: storeDirectory, withIntermediateDirectories: true)
        var kept = file
        kept.temporaryPath = storeDirectory.appendingPathComponent(id)
        try FileManager.default.moveItem(at: file.temporaryPath, to: kept.temporaryPath)
        uploads.append(kept)
        return APIUpload(id: id, kind: file.kind, fileName: file.fileName, size: file.size, sha256: file.sha256)
    }

    func addRelease(_ request: APIAddReleaseRequest, actor: String) async throws -> APIRelease {
        record(
            "addRelease", actor,
            "\(request.name)|\(request.version)|\(request.modelUpload)|\(request.classes?.joined(separator: ",") ?? "fleet")")
        if request.name == "digits" && request.version == "1.0" {
            throw APIError.conflict("release digits 1.0 exists already; pick a new version")
        }
        var r = APIFixtures.release
        r.name = request.name
        r.version = request.version
        r.status = .building
        r.createdBy = actor
        return r
    }

    func listReleases(actor: String) async throws -> [APIRelease] {
        record("listReleases", actor)
        return [APIFixtures.release]
    }

    func release(name: String, version: String, actor: String) async throws -> APIRelease {
        record("release", actor, "\(name)|\(version)")
        guard name == APIFixtures.release.name || name.contains("/") else { throw APIError.notFound("no model '\(name)'") }
        var r = APIFixtures.release
        r.name = name
        r.version = version
        return r
    }

    func planRollout(_ request: APIRolloutRequest, actor: String) async throws -> APIRolloutPlan {
        record("planRollout", actor, "\(request.modelName)|\(request.version)|\(request.target)")
        return APIFixtures.plan
    }

    func startRollout(_ request: APIRolloutRequest, actor: String) async throws -> APIRollout {
        record(
            "startRollout", actor,
            "\(request.modelName)|\(request.version)|\(request.target)|\(request.waves.map { "\($0)" }.joined(separator: ","))|\(request.soakSeconds)|\(request.onFailure.rawValue)|\(request.gate.maxP95Ratio.map { "\($0)" } ?? "-")"
        )
        return APIFixtures.rollout
    }

    func listRollouts(limit: Int, actor: String) async throws -> [APIRollout] {
        record("listRollouts", actor, "\(limit)")
        return [APIFixtures.rollout]
    }

    func rollout(id: String, actor: String) async throws -> APIRollout {
        record("rollout", actor, id)
        guard !id.hasPrefix("missing") else { throw APIError.notFound("no rollout '\(id)'") }
        return APIFixtures.rollout
    }

    func controlRollout(id: String, command: APIRolloutCommand, actor: String) async throws -> APIRollout {
        let text: String
        switch command {
        case .pause: text = "pause"
        case .resume: text = "resume"
        case .abort: text = "abort"
        case .rollback(let c): text = "rollback:\(c ?? "all")"
        }
        record("controlRollout", actor, "\(id)|\(text)")
        if id == "done" { throw APIError.conflict("rollout 'done' is completed; a finished rollout cannot be \(text)d") }
        return APIFixtures.rollout
    }

    func telemetry(_ query: APITelemetryQuery, actor: String) async throws -> APITelemetryReport {
        record(
            "telemetry", actor,
            "\(query.modelName ?? "-")|\(query.version ?? "-")|\(query.hardwareClass ?? "-")|\(query.sinceMs.map { "\($0)" } ?? "-")")
        return APIFixtures.telemetry
    }

    func auditLog(_ query: APIAuditQuery, actor: String) async throws -> [APIAuditEntry] {
        record("auditLog", actor, "\(query.limit)")
        return [
            APIAuditEntry(atMs: 1_770_000_000_000, actor: "alice", action: "rollout.start", target: "r-7", detail: #"{"version":"2.0"}"#)
        ]
    }

    func publicKeys(actor: String) async throws -> [APIPublicKey] {
        record("publicKeys", actor)
        return [APIPublicKey(keyID: "0a1b2c3d4e5f6071", publicKeyBase64: "ZmxvdGlsbGEtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=", active: true)]
    }

    func prometheusMetrics(actor: String?) async throws -> String {
        record("prometheusMetrics", actor)
        return "# HELP flotilla_devices Devices known.\n# TYPE flotilla_devices gauge\nflotilla_devices 3\n"
    }
}

/// A started server with the recording operations, on an ephemeral loopback port.
struct APITestServer {
    static let tokens = ["alice": "alice-token-0123456789", "bob": "bob-token-abcdefghijkl"]

    let server: APIServer
    let operations: RecordingOperations
    let baseURL: URL
    let directory: URL

    static func start(maxUploadBytes: Int = 8 << 20, openMetrics: Bool = false) async throws -> APITestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-api-\(UUID().uuidString)")
        let operations = RecordingOperations(storeDirectory: directory.appendingPathComponent("kept"))
        let config = APIServerConfig(
            host: "127.0.0.1", port: 0, tokens: tokens, openMetrics: openMetrics, maxUploadBytes: maxUploadBytes,
            uploadDirectory: directory.appendingPathComponent("incoming"), requestTimeoutSeconds: 30)
        let server = APIServer(config: config, operations: operations)
        let port = try await server.start()
        return APITestServer(
            server: server, operations: operations, baseURL: try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)")), directory: directory)
    }

    func stop() async {
        // URLSession keeps idle connections open; waiting for them would only slow the tests.
        await server.stop(timeout: 0.1)
        try? FileManager.default.removeItem(at: directory)
    }

    func client(_ operatorName: String = "alice") -> CoordinatorClient {
        CoordinatorClient(baseURL: baseURL, token: Self.tokens[operatorName] ?? "not-a-token-at-all")
    }

    /// A raw request: status, body, headers.
    func raw(
        _ method: String, _ path: String, token: String? = APITestServer.tokens["alice"], body: Data? = nil,
        headers: [String: String] = [:]
    ) async throws -> (status: Int, body: Data, headers: [AnyHashable: Any]) {
        let url = try XCTUnwrap(URL(string: baseURL.absoluteString + path))
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response): (Data, URLResponse)
        if let body {
            (data, response) = try await URLSession.shared.upload(for: request, from: body)
        } else {
            (data, response) = try await URLSession.shared.data(for: request)
        }
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        return (http.statusCode, data, http.allHeaderFields)
    }

    /// The decoded error body of a failed raw request.
    static func errorBody(_ data: Data) throws -> APIErrorBody {
        try JSONDecoder().decode(APIErrorBody.self, from: data)
    }
}
