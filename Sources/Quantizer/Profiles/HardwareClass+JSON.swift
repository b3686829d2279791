public import Foundation
import Runtime

/// Decoding and validation of a profile. JSONSerialization rather than Codable: Codable drops
/// unknown keys silently, and a misspelt key ("weightbits") must be an error, not a default.
extension HardwareClass {
    /// The keys a profile may hold; everything else is rejected.
    static let requiredKeys: Set<String> = [
        "schema", "name", "description", "architecture", "requiredFeatures", "kernelPath", "int8Ops",
        "weightGranularity", "weightBits", "activationType", "weightLayout", "memoryBudgetBytes", "calibrators",
    ]
    static let optionalKeys: Set<String> = ["latencyBudgetMs", "percentile", "recipes"]
    static let schemaVersion = 1

    /// Every feature name `CPUFeatures.names` can produce.
    public static var knownFeatureNames: Set<String> {
        var f = CPUFeatures()
        f.avx2 = true
        f.fma = true
        f.avx512f = true
        f.avx512bw = true
        f.avx512vl = true
        f.avx512vnni = true
        f.avxvnni = true
        f.neon = true
        f.dotprod = true
        return Set(f.names)
    }

    /// Parses and validates one profile; `file` names it in errors.
    public init(json data: Data, file: String = "<memory>") throws {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw QuantizerError.invalidProfile(file: file, key: "", detail: "not valid JSON (\(error.localizedDescription))")
        }
        guard let object = root as? [String: Any] else {
            throw QuantizerError.invalidProfile(file: file, key: "", detail: "the top level must be a JSON object")
        }
        let reader = ProfileReader(file: file, object: object)
        try reader.checkKeys(required: Self.requiredKeys, optional: Self.optionalKeys)
        let schema = try reader.int("schema")
        guard schema == Self.schemaVersion else {
            throw reader.fail("schema", "version \(schema) is not supported; this Flotilla reads schema \(Self.schemaVersion)")
        }
        name = try reader.string("name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw reader.fail("name", "'\(name)' must be non-empty and use only letters, digits, '-', '_' and '.'")
        }
        description = try reader.string("description")
        architecture = try reader.enumeration("architecture", Architecture.self)
        requiredFeatures = Set(try reader.strings("requiredFeatures"))
        kernelPath = try reader.enumeration("kernelPath", KernelPath.self)
        int8Ops = Set(try reader.strings("int8Ops"))
        weightGranularity = try reader.enumeration("weightGranularity", WeightGranularity.self)
        weightBits = try reader.int("weightBits")
        activationType = try reader.enumeration("activationType", ActivationType.self)
        weightLayout = try reader.int("weightLayout")
        memoryBudgetBytes = try reader.int("memoryBudgetBytes")
        latencyBudgetMs = try reader.optionalDouble("latencyBudgetMs")
        calibrators = try reader.strings("calibrators").map { raw in
            guard let c = CalibratorKind(rawValue: raw) else {
                throw reader.fail("calibrators", "'\(raw)' is not a calibrator; use \(Self.choices(CalibratorKind.self))")
            }
            return c
        }
        percentile = try reader.optionalDouble("percentile") ?? 99.99
        recipes = try (reader.optionalStrings("recipes") ?? []).map { raw in
            guard let r = Recipe(rawValue: raw) else {
                throw reader.fail("recipes", "'\(raw)' is not a recipe; use \(Self.choices(Recipe.self))")
            }
            return r
        }
        try validate(file: file)
    }

    static func choices<E: RawRepresentable & CaseIterable>(_: E.Type) -> String where E.RawValue == String {
        E.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    }
}

/// Typed access to one profile object, every failure naming file and key.
struct ProfileReader {
    let file: String
    let object: [String: Any]

    func fail(_ key: String, _ detail: String) -> QuantizerError { .invalidProfile(file: file, key: key, detail: detail) }

    func checkKeys(required: Set<String>, optional: Set<String>) throws {
        for key in object.keys.sorted() where !required.contains(key) && !optional.contains(key) {
            throw fail(key, "unknown key; a profile holds \(required.union(optional).sorted().joined(separator: ", "))")
        }
        for key in required.sorted() where object[key] == nil {
            throw fail(key, "missing; every profile must set it (see docs/quantization.md)")
        }
    }

    func string(_ key: String) throws -> String {
        guard let s = object[key] as? String else { throw fail(key, "must be a string") }
        return s
    }

    /// JSON numbers arrive as NSNumber; booleans are NSNumbers too and are refused here.
    func int(_ key: String) throws -> Int {
        guard let n = object[key] as? NSNumber, !isBool(n) else { throw fail(key, "must be an integer") }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 9.0e15 else { throw fail(key, "must be an integer, got \(d)") }
        return Int(d)
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let v = object[key] else { return nil }
        guard let n = v as? NSNumber, !isBool(n), n.doubleValue.isFinite else { throw fail(key, "must be a number") }
        return n.doubleValue
    }

    func strings(_ key: String) throws -> [String] {
        guard let a = object[key] as? [Any] else { throw fail(key, "must be an array of strings") }
        return try a.map { v in
            guard let s = v as? String else { throw fail(key, "must be an array of strings; found \(v)") }
            return s
        }
    }

    func optionalStrings(_ key: String) throws -> [String]? {
        object[key] == nil ? nil : try strings(key)
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws -> E where E.RawValue == String {
        let raw = try string(key)
        guard let e = E(rawValue: raw) else {
            throw fail(key, "'\(raw)' is not one of \(HardwareClass.choices(E.self))")
        }
        return e
    }

    private func isBool(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c" && (n == NSNumber(value: true) || n == NSNumber(value: false))
    }
}
