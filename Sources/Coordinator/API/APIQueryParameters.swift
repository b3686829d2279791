import FlyingFox

/// A request's query parameters, refusing any this endpoint does not know (a misspelt filter
/// would otherwise silently match everything).
struct APIQueryParameters {
    private var values: [String: String] = [:]

    init(_ items: [HTTPRequest.QueryItem], allowed: Set<String>) throws(APIError) {
        for item in items {
            guard allowed.contains(item.name) else {
                let known = allowed.isEmpty ? "it takes none" : "known: \(allowed.sorted().joined(separator: ", "))"
                throw .invalidRequest(field: item.name, "is not a query parameter of this endpoint; \(known)")
            }
            guard values[item.name] == nil else {
                throw .invalidRequest(field: item.name, "is given twice; give it once")
            }
            values[item.name] = item.value
        }
    }

    /// A present, non-empty value.
    func string(_ name: String) -> String? {
        guard let v = values[name], !v.isEmpty else { return nil }
        return v
    }

    func required(_ name: String) throws(APIError) -> String {
        guard let v = string(name) else { throw .invalidRequest(field: name, "is missing; this endpoint requires it") }
        return v
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let v = string(name) else { return nil }
        switch v.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw .invalidRequest(field: name, "is '\(v)'; give true or false")
        }
    }

    func int(_ name: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let v = string(name) else { return nil }
        guard let n = Int64(v), range.contains(n) else {
            throw .invalidRequest(field: name, "is '\(v)'; give an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }
}
