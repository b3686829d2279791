import ModelIR

/// What an op's plan step sees: the node, its inputs' concrete types, the inputs known at plan
/// time, the kernel table and the constant pool.
struct NodePlanContext {
    let node: Node
    /// One per node input; nil for an omitted optional input.
    let inputTypes: [ValueType?]
    /// One per node input; the value when it is known at plan time.
    let constants: [Tensor?]
    let kernels: KernelTable
    let pool: ConstantPool
    /// Intra-op threads the plan's sessions run with (≥ 1): the most chunks a kernel splits into.
    var threads: Int = 1
    /// Plans If branches and other subgraphs against the enclosing scope.
    let subgraphPlanner: ((Graph) throws -> SubgraphProgram)?

    var name: String { node.name }
    var inputCount: Int { node.inputs.count }

    func fail(_ detail: String, _ kind: RuntimeError.NodeProblem.Kind = .invalid) -> RuntimeError {
        .planFailed([.init(node: node.name, opType: node.qualifiedOpType, detail: detail, kind: kind)])
    }

    func has(_ i: Int) -> Bool { i < inputTypes.count && inputTypes[i] != nil }

    /// The type of input `i`; throws if it is absent.
    func input(_ i: Int) throws -> ValueType {
        guard i < inputTypes.count, let t = inputTypes[i] else {
            throw fail("input \(i) is required but missing; check the exporter")
        }
        return t
    }

    /// Input `i` with one of the accepted element types.
    func input(_ i: Int, _ accepted: Set<ElementType>) throws -> ValueType {
        let t = try input(i)
        guard accepted.contains(t.elementType) else {
            let names = accepted.map(\.rawValue).sorted().joined(separator: ", ")
            throw fail(
                "input \(i) ('\(node.inputs[i])') is \(t.elementType); this op runs on \(names)", .unsupportedElementType(t.elementType))
        }
        return t
    }

    func constant(_ i: Int) -> Tensor? { i < constants.count ? constants[i] : nil }

    /// Input `i`'s value, which must be known at plan time (shape vectors, axes, weights).
    func requireConstant(_ i: Int, _ what: String) throws -> Tensor {
        guard let t = constant(i) else {
            let value = i < node.inputs.count ? node.inputs[i] : ""
            throw fail(
                "\(what) (input \(i), '\(i < node.inputs.count ? node.inputs[i] : "")') must be known at plan time "
                    + "(an initializer, or computed from shapes); this runtime plans memory statically",
                .dataDependentShape(value: value))
        }
        return t
    }

    func requireInts(_ i: Int, _ what: String) throws -> [Int] {
        let t = try requireConstant(i, what)
        guard let v = t.asInt64s else {
            throw fail("\(what) must be an integer tensor, got \(t.elementType)", .unsupportedElementType(t.elementType))
        }
        return v.map { Int(clamping: $0) }
    }

    func optionalInts(_ i: Int, _ what: String) throws -> [Int]? {
        guard has(i) else { return nil }
        return try requireInts(i, what)
    }

    /// A scalar float from a constant input (Clip bounds, Pad value...).
    func optionalScalar(_ i: Int, _ what: String) throws -> Double? {
        guard has(i) else { return nil }
        let t = try requireConstant(i, what)
        guard t.elementCount == 1, let v = t.asDoubles?.first ?? t.asInt64s.map({ Double($0[0]) }) else {
            throw fail("\(what) must hold exactly one number, got \(t.elementType)\(t.shape)")
        }
        return v
    }

    // MARK: attributes

    func int(_ name: String, _ def: Int) -> Int { node.int(name) ?? def }
    func float(_ name: String, _ def: Float) -> Float { node.float(name) ?? def }
    func string(_ name: String, _ def: String) -> String { node.string(name) ?? def }
    func ints(_ name: String) -> [Int]? { node.ints(name) }

    /// A normalized axis for `rank`, or a clear error.
    func axis(_ a: Int, rank: Int, _ what: String = "axis") throws -> Int {
        guard let n = Shape.normalize(axis: a, rank: rank) else {
            throw fail("\(what) \(a) is out of range for rank \(rank) (valid: \(-rank)...\(rank - 1))")
        }
        return n
    }

    func outputCount() -> Int { node.outputs.count }
    func wantsOutput(_ i: Int) -> Bool { i < node.outputs.count && !node.outputs[i].isEmpty }
}

/// Double → Int without trapping: NaN → 0, out of range → the nearest bound.
func saturatingInt(_ d: Double) -> Int {
    if d.isNaN { return 0 }
    if d >= 9.2e18 { return Int.max }
    if d <= -9.2e18 { return Int.min }
    return Int(d)
}

/// Sizes taken from attributes and constant inputs are bounded so that geometry arithmetic
/// cannot overflow; real models are many orders of magnitude below.
let maxGeometryValue = 1 << 24

/// Float-only inputs are the common case.
let floatOnly: Set<ElementType> = [.float32]
let numeric: Set<ElementType> = [.float32, .int64, .int32]
let anyStored: Set<ElementType> = Set(ElementType.allCases.filter { $0 != .string })
