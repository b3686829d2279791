/// A failure the API reports to its caller: an HTTP status, a stable machine code and a
/// message that says what went wrong and how to fix it. The body on the wire is
/// `{"error": code, "message": message}` (plus `"field"` when one request field is at fault).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Codable, Sendable, CaseIterable {
        case badRequest = "bad_request"
        case unauthorized
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case conflict
        case payloadTooLarge = "payload_too_large"
        case unavailable
        case `internal`

        public var httpStatus: Int {
            switch self {
            case .badRequest: 400
            case .unauthorized: 401
            case .notFound: 404
            case .methodNotAllowed: 405
            case .conflict: 409
            case .payloadTooLarge: 413
            case .unavailable: 503
            case .internal: 500
            }
        }
    }

    public var code: Code
    public var message: String
    /// The request field at fault (JSON path like `gate.maxP95Ratio`, or a query parameter).
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }

    public static func invalidRequest(field: String, _ message: String) -> APIError {
        APIError(.badRequest, "'\(field)' \(message)", field: field)
    }

    public static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }
    public static func conflict(_ message: String) -> APIError { APIError(.conflict, message) }
}

/// The JSON body of every error response.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var error: String
    public var message: String
    public var field: String?

    public init(_ error: APIError) {
        self.error = error.code.rawValue
        self.message = error.message
        self.field = error.field
    }
}
