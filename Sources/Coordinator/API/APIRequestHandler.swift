import FlyingFox
import Foundation
import Logging

/// The one FlyingFox handler behind every path: routes, authenticates, decodes, calls
/// `CoordinatorOperations` and encodes. It never throws to FlyingFox (which would answer a
/// bare 500): every failure becomes a JSON error body.
struct APIRequestHandler: HTTPHandler {
    let config: APIServerConfig
    let authenticator: APIAuthenticator
    let operations: any CoordinatorOperations
    let logger: Logger

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = APIBodyReader(request)
        do {
            let route = try APIRoute.match(method: request.method.rawValue, path: request.target.path())
            let actor = try authenticate(route, request)
            return try await dispatch(route, request: request, body: body, actor: actor)
        } catch let error as APIError {
            return await errorResponse(error, request: request, body: body)
        } catch is CancellationError {
            return await errorResponse(
                APIError(.unavailable, "the request did not finish within \(Int(config.requestTimeoutSeconds)) s; retry later"),
                request: request, body: body)
        } catch {
            logger.error("API \(request.method.rawValue) \(request.path) failed: \(error)")
            return await errorResponse(APIError(.internal, String(describing: error)), request: request, body: body)
        }
    }

    /// The operator name, or nil for public routes; throws 401 otherwise.
    private func authenticate(_ route: APIRoute, _ request: HTTPRequest) throws(APIError) -> String? {
        if route.isPublic || (route == .metrics && config.openMetrics) { return nil }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "no token: send 'Authorization: Bearer <token>' with an operator token")
        }
        guard let actor = authenticator.authenticate(authorizationHeader: header) else {
            logger.warning("API \(request.method.rawValue) \(request.path): invalid token from \(Self.peer(request))")
            throw APIError(.unauthorized, "the bearer token is not valid; check the token file the coordinator was given")
        }
        return actor
    }

    /// A present actor, for routes that need one (every route but the public ones).
    static func required(_ actor: String?) throws(APIError) -> String {
        guard let actor else { throw APIError(.unauthorized, "this endpoint needs an operator token") }
        return actor
    }

    // MARK: Responses

    static let jsonType = "application/json; charset=utf-8"

    func json(_ value: some Encodable, status: HTTPStatusCode = .ok) throws -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: Self.jsonType], body: try APIJSON.encode(value))
    }

    func text(_ body: String, contentType: String, status: HTTPStatusCode = .ok) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: contentType, .cacheControl: "no-store"], body: Data(body.utf8))
    }

    /// An error body; the rest of an unread request body is drained when that is cheap, and the
    /// connection is closed otherwise, so leftover bytes are never parsed as the next request.
    private func errorResponse(_ error: APIError, request: HTTPRequest, body reader: APIBodyReader) async -> HTTPResponse {
        if error.code == .internal || error.code == .unavailable {
            logger.error("API \(request.method.rawValue) \(request.path): \(error.message)")
        } else {
            logger.debug("API \(request.method.rawValue) \(request.path): \(error.code.rawValue): \(error.message)")
        }
        var headers: HTTPHeaders = [.contentType: Self.jsonType]
        if error.code == .unauthorized { headers[HTTPHeader("WWW-Authenticate")] = "Bearer realm=\"flotilla\"" }
        if !(await reader.drain()) { headers[.connection] = "close" }
        let body = (try? APIJSON.encode(APIErrorBody(error))) ?? Data(#"{"error":"internal","message":"unencodable error"}"#.utf8)
        return HTTPResponse(
            statusCode: HTTPStatusCode(error.code.httpStatus, phrase: Self.phrase(error.code)), headers: headers, body: body)
    }

    static func phrase(_ code: APIError.Code) -> String {
        switch code {
        case .badRequest: "Bad Request"
        case .unauthorized: "Unauthorized"
        case .notFound: "Not Found"
        case .methodNotAllowed: "Method Not Allowed"
        case .conflict: "Conflict"
        case .payloadTooLarge: "Content Too Large"
        case .unavailable: "Service Unavailable"
        case .internal: "Internal Server Error"
        }
    }

    static func peer(_ request: HTTPRequest) -> String {
        switch request.remoteAddress {
        case .ip4(let a, _)?, .ip6(let a, _)?: a
        case .unix(let p)?: p
        case nil: "unknown peer"
        }
    }
}
