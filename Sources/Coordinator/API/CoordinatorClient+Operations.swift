public import Foundation
import ModelArtifact

extension CoordinatorClient {
    // MARK: Devices

    public func listDevices(_ query: APIDeviceQuery = APIDeviceQuery()) async throws(CoordinatorClientError) -> [APIDevice] {
        let url = try url(
            ["v1", "devices"], query: ["selector": query.selector, "class": query.hardwareClass, "online": query.online.map { "\($0)" }])
        return try await send(request("GET", url), as: APIList<APIDevice>.self).items
    }

    public func device(id: String) async throws(CoordinatorClientError) -> APIDevice {
        try await send(request("GET", url(["v1", "devices", id])), as: APIDevice.self)
    }

    public func updateLabels(deviceID: String, change: APILabelChange) async throws(CoordinatorClientError) -> APIDevice {
        let req = try request("PATCH", url(["v1", "devices", deviceID, "labels"]), contentType: "application/json")
        return try await send(req, body: encode(change), as: APIDevice.self)
    }

    // MARK: Uploads and releases

    /// Streams the file from disk (not read into memory) with its SHA-256 for the server to check.
    public func upload(file: URL, kind: APIUploadKind) async throws(CoordinatorClientError) -> APIUpload {
        let digest: String
        do { digest = try FileDigest.sha256(of: file) } catch { throw .file(path: file.path, detail: "\(error)") }
        var req = try request(
            "POST", url(["v1", "uploads"], query: ["kind": kind.rawValue, "fileName": file.lastPathComponent]),
            contentType: "application/octet-stream")
        req.setValue(digest, forHTTPHeaderField: "X-Content-SHA256")
        req.timeoutInterval = 3600
        let data = try await perform(req, file: file)
        do { return try APIJSON.decodeResponse(APIUpload.self, from: data) } catch {
            throw .badResponse(url: req.url?.absoluteString ?? "?", status: 201, detail: "cannot decode APIUpload: \(error)")
        }
    }

    public func addRelease(_ add: APIAddReleaseRequest) async throws(CoordinatorClientError) -> APIRelease {
        let req = try request("POST", url(["v1", "releases"]), contentType: "application/json")
        return try await send(req, body: encode(add), as: APIRelease.self)
    }

    public func listReleases() async throws(CoordinatorClientError) -> [APIRelease] {
        try await send(request("GET", url(["v1", "releases"])), as: APIList<APIRelease>.self).items
    }

    public func release(name: String, version: String) async throws(CoordinatorClientError) -> APIRelease {
        try await send(request("GET", url(["v1", "releases", name, version])), as: APIRelease.self)
    }

    // MARK: Rollouts

    /// Forces `dryRun` on: the plan, nothing started.
    public func planRollout(_ start: APIRolloutRequest) async throws(CoordinatorClientError) -> APIRolloutPlan {
        var start = start
        start.dryRun = true
        let req = try request("POST", url(["v1", "rollouts"]), contentType: "application/json")
        return try await send(req, body: encode(start), as: APIRolloutPlan.self)
    }

    public func startRollout(_ start: APIRolloutRequest) async throws(CoordinatorClientError) -> APIRollout {
        var start = start
        start.dryRun = false
        let req = try request("POST", url(["v1", "rollouts"]), contentType: "application/json")
        return try await send(req, body: encode(start), as: APIRollout.self)
    }

    public func listRollouts(limit: Int = 50) async throws(CoordinatorClientError) -> [APIRollout] {
        try await send(request("GET", url(["v1", "rollouts"], query: ["limit": "\(limit)"])), as: APIList<APIRollout>.self).items
    }

    public func rollout(id: String) async throws(CoordinatorClientError) -> APIRollout {
        try await send(request("GET", url(["v1", "rollouts", id])), as: APIRollout.self)
    }

    public func controlRollout(id: String, command: APIRolloutCommand) async throws(CoordinatorClientError) -> APIRollout {
        let verb: String
        var body = Data()
        switch command {
        case .pause: verb = "pause"
        case .resume: verb = "resume"
        case .abort: verb = "abort"
        case .rollback(let hardwareClass):
            verb = "rollback"
            body = try encode(APIRollbackBody(hardwareClass: hardwareClass))
        }
        let req = try request("POST", url(["v1", "rollouts", id, verb]), contentType: "application/json")
        return try await send(req, body: body, as: APIRollout.self)
    }

    // MARK: Observability

    public func telemetry(_ query: APITelemetryQuery = APITelemetryQuery()) async throws(CoordinatorClientError) -> APITelemetryReport {
        let url = try url(
            ["v1", "telemetry"],
            query: [
                "model": query.modelName, "version": query.version, "class": query.hardwareClass, "since": query.sinceMs.map { "\($0)" },
            ])
        return try await send(request("GET", url), as: APITelemetryReport.self)
    }

    public func auditLog(_ query: APIAuditQuery = APIAuditQuery()) async throws(CoordinatorClientError) -> [APIAuditEntry] {
        let url = try url(["v1", "audit"], query: ["limit": "\(query.limit)", "since": query.sinceMs.map { "\($0)" }])
        return try await send(request("GET", url), as: APIList<APIAuditEntry>.self).items
    }

    public func publicKeys() async throws(CoordinatorClientError) -> [APIPublicKey] {
        try await send(request("GET", url(["v1", "keys"])), as: APIList<APIPublicKey>.self).items
    }

    /// The Prometheus text.
    public func metrics() async throws(CoordinatorClientError) -> String {
        var req = try request("GET", url(["metrics"]))
        req.setValue("text/plain", forHTTPHeaderField: "Accept")
        return String(decoding: try await perform(req), as: UTF8.self)
    }
}

/// SHA-256 of a file for upload integrity checks, through the artifact module's hasher.
enum FileDigest {
    static func sha256(of url: URL) throws -> String {
        try ArtifactTransport.sha256(fileAt: url).sha256
    }
}
