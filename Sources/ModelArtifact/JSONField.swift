/// A parsed JSON value with the path that leads to it, so every content error names exactly
/// where it is (`graph.nodes[3].attributes.axes`).
struct JSONField {
    let section: String
    let path: String
    let value: JSONValue

    func fail(_ detail: String) -> ArtifactError {
        .invalidContent(section: section, path: path, detail: detail)
    }

    private var typeName: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .uint: return "an integer"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    func object() throws(ArtifactError) -> [String: JSONValue] {
        guard case .object(let members) = value else { throw fail("expected an object, found \(typeName)") }
        return members
    }

    /// A required member.
    func field(_ key: String) throws(ArtifactError) -> JSONField {
        guard let v = try object()[key] else { throw fail("required key \"\(key)\" is missing") }
        return JSONField(section: section, path: "\(path).\(key)", value: v)
    }

    /// An optional member; an explicit `null` counts as absent.
    func optionalField(_ key: String) throws(ArtifactError) -> JSONField? {
        guard let v = try object()[key], v != .null else { return nil }
        return JSONField(section: section, path: "\(path).\(key)", value: v)
    }

    /// Members in canonical (UTF-8 byte) key order, so decoding is deterministic too.
    func members() throws(ArtifactError) -> [(key: String, field: JSONField)] {
        try object().keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { key in
            (key, JSONField(section: section, path: "\(path).\(key)", value: (try? object()[key]) ?? .null))
        }
    }

    func array() throws(ArtifactError) -> [JSONField] {
        guard case .array(let items) = value else { throw fail("expected an array, found \(typeName)") }
        return items.enumerated().map { JSONField(section: section, path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    func string() throws(ArtifactError) -> String {
        guard case .string(let s) = value else { throw fail("expected a string, found \(typeName)") }
        return s
    }

    func bool() throws(ArtifactError) -> Bool {
        guard case .bool(let b) = value else { throw fail("expected a boolean, found \(typeName)") }
        return b
    }

    func int() throws(ArtifactError) -> Int {
        guard case .int(let v) = value, let i = Int(exactly: v) else { throw fail("expected a 64-bit signed integer, found \(typeName)") }
        return i
    }

    /// A non-negative integer no larger than `limit`.
    func count(limit: Int = Int.max) throws(ArtifactError) -> Int {
        let v = try int()
        guard v >= 0, v <= limit else { throw fail("\(v) is outside 0...\(limit)") }
        return v
    }

    func uint64() throws(ArtifactError) -> UInt64 {
        switch value {
        case .int(let v) where v >= 0: return UInt64(v)
        case .uint(let v): return v
        default: throw fail("expected a non-negative integer, found \(typeName)")
        }
    }

    func float() throws(ArtifactError) -> Float {
        let s = try string()
        guard let v = CanonicalFloat.float(s) else {
            throw fail("\"\(s)\" is not a canonical float32 (shortest round-trip decimal, nan, inf or -inf)")
        }
        return v
    }

    func double() throws(ArtifactError) -> Double {
        let s = try string()
        guard let v = CanonicalFloat.double(s) else {
            throw fail("\"\(s)\" is not a canonical float64 (shortest round-trip decimal, nan, inf or -inf)")
        }
        return v
    }

    func strings() throws(ArtifactError) -> [String] {
        var out: [String] = []
        for item in try array() { out.append(try item.string()) }
        return out
    }

    func stringMap() throws(ArtifactError) -> [String: String] {
        var out: [String: String] = [:]
        for (key, field) in try members() { out[key] = try field.string() }
        return out
    }
}
