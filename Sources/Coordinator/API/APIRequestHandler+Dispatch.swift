import FlyingFox
import Foundation

extension APIRequestHandler {
    /// One route → one operation, with the authenticated operator as actor.
    func dispatch(_ route: APIRoute, request: HTTPRequest, body: APIBodyReader, actor: String?) async throws -> HTTPResponse {
        func query(_ allowed: Set<String> = []) throws(APIError) -> APIQueryParameters {
            try APIQueryParameters(request.query, allowed: allowed)
        }
        switch route {
        case .dashboard:
            return text(DashboardPage.html, contentType: "text/html; charset=utf-8")
        case .health:
            return try json(["status": "ok"])
        case .metrics:
            let text = try await operations.prometheusMetrics(actor: actor)
            return self.text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
        default:
            break
        }
        let actor = try Self.required(actor)
        switch route {
        case .listDevices:
            let q = try query(["selector", "class", "online"])
            let filter = APIDeviceQuery(selector: q.string("selector"), hardwareClass: q.string("class"), online: try q.bool("online"))
            return try json(APIList(items: try await operations.listDevices(filter, actor: actor)))
        case .getDevice(let id):
            _ = try query()
            return try json(try await operations.device(id: id, actor: actor))
        case .updateLabels(let id):
            let change = try await decode(APILabelChange.self, body)
            logger.info("API \(actor): labels of device \(id)")
            return try json(try await operations.updateLabels(deviceID: id, change: change, actor: actor))
        case .upload:
            return try json(try await receiveUpload(request, body: body, actor: actor), status: .created)
        case .addRelease:
            let add = try await decode(APIAddReleaseRequest.self, body)
            logger.info("API \(actor): add release \(add.name) \(add.version)")
            return try json(try await operations.addRelease(add, actor: actor), status: .accepted)
        case .listReleases:
            _ = try query()
            return try json(APIList(items: try await operations.listReleases(actor: actor)))
        case .getRelease(let name, let version):
            _ = try query()
            return try json(try await operations.release(name: name, version: version, actor: actor))
        case .startRollout:
            let start = try await decode(APIRolloutRequest.self, body)
            if start.dryRun { return try json(try await operations.planRollout(start, actor: actor)) }
            logger.info("API \(actor): start rollout of \(start.modelName) \(start.version) to '\(start.target)'")
            return try json(try await operations.startRollout(start, actor: actor), status: .created)
        case .listRollouts:
            let limit = try query(["limit"]).int("limit", in: 1...1000) ?? 50
            return try json(APIList(items: try await operations.listRollouts(limit: Int(limit), actor: actor)))
        case .getRollout(let id):
            _ = try query()
            return try json(try await operations.rollout(id: id, actor: actor))
        case .controlRollout(let id, let verb):
            let command = try await controlCommand(verb, body: body)
            logger.info("API \(actor): \(verb) rollout \(id)")
            return try json(try await operations.controlRollout(id: id, command: command, actor: actor))
        case .telemetry:
            let q = try query(["model", "version", "class", "since"])
            let filter = APITelemetryQuery(
                modelName: q.string("model"), version: q.string("version"), hardwareClass: q.string("class"),
                sinceMs: try q.int("since", in: 0...Int64.max))
            if filter.version != nil && filter.modelName == nil {
                throw APIError.invalidRequest(field: "version", "needs 'model' too: a version is per model")
            }
            return try json(try await operations.telemetry(filter, actor: actor))
        case .audit:
            let q = try query(["limit", "since"])
            let filter = APIAuditQuery(
                limit: Int(try q.int("limit", in: 1...10_000) ?? 100), sinceMs: try q.int("since", in: 0...Int64.max))
            return try json(APIList(items: try await operations.auditLog(filter, actor: actor)))
        case .keys:
            _ = try query()
            return try json(APIList(items: try await operations.publicKeys(actor: actor)))
        case .dashboard, .health, .metrics:
            throw APIError(.internal, "route \(route) was not answered")
        }
    }

    func decode<T: APIRequestBody>(_ type: T.Type, _ body: APIBodyReader) async throws -> T {
        let data = try await body.readAll(limit: config.maxJSONBodyBytes, what: "JSON body")
        return try APIJSON.decodeRequest(type, from: data)
    }

    private func controlCommand(_ verb: String, body: APIBodyReader) async throws -> APIRolloutCommand {
        switch verb {
        case "pause": return .pause
        case "resume": return .resume
        case "abort": return .abort
        default:
            let data = try await body.readAll(limit: config.maxJSONBodyBytes, what: "JSON body")
            if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .rollback(hardwareClass: nil) }
            return .rollback(hardwareClass: try APIJSON.decodeRequest(APIRollbackBody.self, from: data).hardwareClass)
        }
    }
}
