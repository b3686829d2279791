/// Everything an operator can ask of the coordinator, as the HTTP API (and so the `flotilla`
/// CLI and the dashboard) sees it. `CoordinatorService` implements it; the HTTP layer only
/// authenticates, decodes, calls one of these and encodes the answer.
///
/// Every call carries `actor`: the operator name whose token authenticated the request, so
/// the audit log records who did what. Read-only calls carry it too, so an implementation can
/// log or rate-limit reads if it wants.
///
/// Errors: throw `APIError` to choose the HTTP status (`.notFound`, `.conflict`,
/// `.invalidRequest(field:)`...); any other error becomes a 500 whose message is the error's
/// description.
public protocol CoordinatorOperations: Sendable {
    // MARK: Devices
    func listDevices(_ query: APIDeviceQuery, actor: String) async throws -> [APIDevice]
    func device(id: String, actor: String) async throws -> APIDevice
    /// Applies `change.set` then `change.remove`; returns the device as it is afterwards.
    func updateLabels(deviceID: String, change: APILabelChange, actor: String) async throws -> APIDevice

    // MARK: Uploads and releases
    /// Takes ownership of a file the HTTP layer streamed to disk (move it; the HTTP layer
    /// deletes `file.temporaryPath` afterwards if it still exists) and returns its upload id.
    func registerUpload(_ file: APIReceivedUpload, actor: String) async throws -> APIUpload
    /// Creates the release and starts its builds; returns at once with status `building`.
    func addRelease(_ request: APIAddReleaseRequest, actor: String) async throws -> APIRelease
    /// Every release, newest first; variants without their report text.
    func listReleases(actor: String) async throws -> [APIRelease]
    /// One release with every variant's quantization report.
    func release(name: String, version: String, actor: String) async throws -> APIRelease

    // MARK: Rollouts
    /// The devices each wave would hit, per class; changes nothing.
    func planRollout(_ request: APIRolloutRequest, actor: String) async throws -> APIRolloutPlan
    func startRollout(_ request: APIRolloutRequest, actor: String) async throws -> APIRollout
    /// Newest first, at most `limit`.
    func listRollouts(limit: Int, actor: String) async throws -> [APIRollout]
    func rollout(id: String, actor: String) async throws -> APIRollout
    func controlRollout(id: String, command: APIRolloutCommand, actor: String) async throws -> APIRollout

    // MARK: Observability
    func telemetry(_ query: APITelemetryQuery, actor: String) async throws -> APITelemetryReport
    /// Newest first.
    func auditLog(_ query: APIAuditQuery, actor: String) async throws -> [APIAuditEntry]
    /// The Ed25519 keys devices may pin (the active one and those kept for rotation).
    func publicKeys(actor: String) async throws -> [APIPublicKey]
    /// Prometheus text exposition format 0.0.4. `actor` is nil when `/metrics` is open.
    func prometheusMetrics(actor: String?) async throws -> String
}
