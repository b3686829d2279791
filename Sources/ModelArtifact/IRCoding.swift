import ModelIR

/// JSON forms of the small ModelIR value types shared by the manifest and the graph section:
/// types (element type, shape with symbolic dimensions, quantization) and fused activations.
enum IRCoding {
    // MARK: Types

    static func encode(_ type: TensorType) -> JSONValue {
        var members: [String: JSONValue] = ["elementType": .string(type.elementType.rawValue)]
        if let shape = type.shape { members["shape"] = encode(shape) }
        if let q = type.quantization { members["quantization"] = encode(q) }
        return .object(members)
    }

    static func encode(_ shape: Shape) -> JSONValue {
        .array(
            shape.dims.map { d in
                switch d {
                case .fixed(let v): return .integer(v)
                case .symbolic(let s): return .string(s)
                }
            })
    }

    static func encode(_ q: QuantParameters) -> JSONValue {
        var members: [String: JSONValue] = [
            "scales": .array(q.scales.map(JSONValue.float)),
            "zeroPoints": .array(q.zeroPoints.map { .int(Int64($0)) }),
        ]
        if let axis = q.axis { members["axis"] = .integer(axis) }
        return .object(members)
    }

    static func encode(_ info: ValueInfo) -> JSONValue {
        .object(["name": .string(info.name), "type": encode(info.type)])
    }

    static func elementType(_ field: JSONField) throws(ArtifactError) -> ElementType {
        let raw = try field.string()
        guard let t = ElementType(rawValue: raw) else {
            throw field.fail("unknown element type \"\(raw)\" (known: \(ElementType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return t
    }

    static func tensorType(_ field: JSONField) throws(ArtifactError) -> TensorType {
        let element = try elementType(try field.field("elementType"))
        let shape = try field.optionalField("shape").map { (f) throws(ArtifactError) in try self.shape(f) }
        let quant = try field.optionalField("quantization").map { (f) throws(ArtifactError) in try quantization(f) }
        if let quant {
            do { try quant.validate(for: element, shape: shape) } catch {
                throw field.fail("quantization does not fit the type: \(error)")
            }
        }
        return TensorType(element, shape, quantization: quant)
    }

    /// Fixed dimensions must be non-negative; a type's dimensions are never multiplied here, so
    /// a huge one is not an overflow risk (tensor byte lengths are checked where they exist).
    static func shape(_ field: JSONField) throws(ArtifactError) -> Shape {
        let items = try field.array()
        guard items.count <= ArtifactFormat.maxRank else { throw field.fail("rank \(items.count) exceeds \(ArtifactFormat.maxRank)") }
        var dims: [ModelIR.Dimension] = []
        for item in items {
            if case .string(let s) = item.value {
                guard !s.isEmpty else { throw item.fail("a symbolic dimension needs a name") }
                dims.append(.symbolic(s))
            } else {
                dims.append(.fixed(try item.count()))
            }
        }
        return Shape(dims)
    }

    static func quantization(_ field: JSONField) throws(ArtifactError) -> QuantParameters {
        var scales: [Float] = []
        for s in try field.field("scales").array() { scales.append(try s.float()) }
        var zeroPoints: [Int32] = []
        for z in try field.field("zeroPoints").array() {
            guard let v = Int32(exactly: try z.int()) else { throw z.fail("zero point does not fit in 32 bits") }
            zeroPoints.append(v)
        }
        let axis = try field.optionalField("axis").map { (f) throws(ArtifactError) in try f.count(limit: ArtifactFormat.maxRank) }
        do {
            return try QuantParameters(scales: scales, zeroPoints: zeroPoints, axis: axis)
        } catch {
            throw field.fail("\(error)")
        }
    }

    static func valueInfo(_ field: JSONField) throws(ArtifactError) -> ValueInfo {
        ValueInfo(try field.field("name").string(), try tensorType(try field.field("type")))
    }

    // MARK: Activations

    static func encode(_ a: Activation) -> JSONValue {
        switch a {
        case .relu: return .object(["kind": .string("relu")])
        case .clip(let lo, let hi): return .object(["kind": .string("clip"), "min": .float(lo), "max": .float(hi)])
        case .leakyRelu(let alpha): return .object(["kind": .string("leakyRelu"), "alpha": .float(alpha)])
        case .hardSigmoid(let alpha, let beta):
            return .object(["kind": .string("hardSigmoid"), "alpha": .float(alpha), "beta": .float(beta)])
        case .hardSwish: return .object(["kind": .string("hardSwish")])
        case .sigmoid: return .object(["kind": .string("sigmoid")])
        case .tanh: return .object(["kind": .string("tanh")])
        }
    }

    static func activation(_ field: JSONField) throws(ArtifactError) -> Activation {
        let kind = try field.field("kind").string()
        switch kind {
        case "relu": return .relu
        case "clip": return .clip(min: try field.field("min").float(), max: try field.field("max").float())
        case "leakyRelu": return .leakyRelu(alpha: try field.field("alpha").float())
        case "hardSigmoid": return .hardSigmoid(alpha: try field.field("alpha").float(), beta: try field.field("beta").float())
        case "hardSwish": return .hardSwish
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        default: throw field.fail("unknown fused activation \"\(kind)\"")
        }
    }
}
