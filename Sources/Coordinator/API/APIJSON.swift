import Foundation

/// A JSON request body: which top-level (and nested object) fields it knows, so a misspelt
/// field is refused instead of silently ignored, and its own semantic checks.
protocol APIRequestBody: Decodable {
    static var fields: Set<String> { get }
    /// Field → the fields of the object it holds.
    static var nestedFields: [String: Set<String>] { get }
    func validate() throws(APIError)
}

extension APIRequestBody {
    static var nestedFields: [String: Set<String>] { [:] }
}

/// The API's one JSON dialect: camelCase keys, times as integer milliseconds since 1970,
/// sorted keys (stable output for diffs and tests).
enum APIJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes a response (client side): no unknown-field check, so newer servers may add fields.
    static func decodeResponse<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }

    /// Decodes and validates a request body; every failure is a 400 naming the field.
    static func decodeRequest<T: APIRequestBody>(_ type: T.Type, from data: Data) throws(APIError) -> T {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw APIError(.badRequest, "the request body is not valid JSON (\(error.localizedDescription)); send a JSON object")
        }
        guard let fields = object as? [String: Any] else {
            throw APIError(.badRequest, "the request body must be a JSON object ({...}), not \(Self.kind(of: object))")
        }
        try checkFields(fields, known: T.fields, prefix: "")
        for (name, known) in T.nestedFields {
            if let nested = fields[name] as? [String: Any] { try checkFields(nested, known: known, prefix: name + ".") }
        }
        let value: T
        do { value = try JSONDecoder().decode(T.self, from: data) } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw APIError(.badRequest, "the request body cannot be decoded: \(error)")
        }
        try value.validate()
        return value
    }

    static func checkFields(_ object: [String: Any], known: Set<String>, prefix: String) throws(APIError) {
        if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
            throw .invalidRequest(
                field: prefix + unknown, "is not a field of this request; known fields: \(known.sorted().joined(separator: ", "))")
        }
    }

    /// A decoding failure as a 400 naming the JSON path (`gate.maxP95Ratio`, `waves[2]`).
    static func describe(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidRequest(field: path(context.codingPath + [key]), "is missing; it is required")
        case .typeMismatch(let type, let context):
            return .invalidRequest(field: path(context.codingPath), "has the wrong type; expected \(jsonName(of: type))")
        case .valueNotFound(let type, let context):
            return .invalidRequest(field: path(context.codingPath), "is null; expected \(jsonName(of: type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return APIError(.badRequest, "the request body is not valid JSON: \(context.debugDescription)")
            }
            return .invalidRequest(field: path(context.codingPath), context.debugDescription)
        @unknown default:
            return APIError(.badRequest, "the request body cannot be decoded: \(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let i = key.intValue { out += "[\(i)]" } else { out += out.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return out.isEmpty ? "body" : out
    }

    static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object or value of type \(type)"
        }
    }

    static func kind(of object: Any) -> String {
        switch object {
        case is [Any]: "an array"
        case is String: "a string"
        case is NSNumber: "a number"
        default: "null"
        }
    }

    /// Decodes a string enum, naming the accepted values when the value is unknown.
    static func decodeEnum<E: RawRepresentable & CaseIterable>(_ type: E.Type, from decoder: any Decoder) throws -> E
    where E.RawValue == String {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = E(rawValue: raw) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "has the unknown value '\(raw)'; expected one of "
                        + E.allCases.map { $0.rawValue }.joined(separator: ", ")))
        }
        return value
    }
}

extension APIRollbackPolicy {
    public init(from decoder: any Decoder) throws { self = try APIJSON.decodeEnum(Self.self, from: decoder) }
}

extension APIUploadKind {
    public init(from decoder: any Decoder) throws { self = try APIJSON.decodeEnum(Self.self, from: decoder) }
}

extension APIBuildStatus {
    public init(from decoder: any Decoder) throws { self = try APIJSON.decodeEnum(Self.self, from: decoder) }
}
