/// The JSON subset the artifact's text sections use, with one canonical serialization:
/// object keys sorted by their UTF-8 bytes, no whitespace, strings escaped minimally, integers
/// as plain decimals, and no JSON floating-point numbers at all: a float is written as a string
/// (`CanonicalFloat`), so its text never depends on the printer.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Only for values above Int64.max (release sequences); smaller values are `.int`.
    case uint(UInt64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    static func integer(_ v: Int) -> JSONValue { .int(Int64(v)) }
    static func unsigned(_ v: UInt64) -> JSONValue { v <= UInt64(Int64.max) ? .int(Int64(v)) : .uint(v) }
    static func float(_ v: Float) -> JSONValue { .string(CanonicalFloat.text(v)) }
    static func double(_ v: Double) -> JSONValue { .string(CanonicalFloat.text(v)) }
    static func strings(_ v: [String]) -> JSONValue { .array(v.map(JSONValue.string)) }

    /// The canonical bytes of this value.
    var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .int(let v): out.append(contentsOf: Array(String(v).utf8))
        case .uint(let v): out.append(contentsOf: Array(String(v).utf8))
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.map { (key: $0, utf8: Array($0.utf8)) }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key.key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key.key]?.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Escapes `"`, `\` and the C0 controls (as `\u00xx`, lower-case hex); every other scalar
    /// is written as its UTF-8 bytes. One spelling per string, so the bytes are canonical.
    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(contentsOf: Array(Hex.string([byte]).utf8))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Floating-point numbers as text that round-trips exactly: the shortest decimal that parses
/// back to the same value (Swift's `description`, e.g. "0.1", "1e-07", "-0.0"), and "nan",
/// "inf", "-inf". Readers accept only this spelling, so each value has exactly one.
enum CanonicalFloat {
    static func text(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        return v.description
    }

    static func text(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v < 0 ? "-inf" : "inf" }
        return v.description
    }

    static func float(_ s: String) -> Float? {
        guard s.utf8.count <= 64, let v = Float(s), text(v) == s else { return nil }
        return v
    }

    static func double(_ s: String) -> Double? {
        guard s.utf8.count <= 64, let v = Double(s), text(v) == s else { return nil }
        return v
    }
}
