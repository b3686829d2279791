import ModelIR

/// One importable op: the opsets it can be read from and the function that rewrites a node
/// read at any of those opsets into the canonical (newest-opset) form.
struct OpSchema: Sendable {
    let opType: String
    let domain: String
    let versions: ClosedRange<Int>
    let upgrade: @Sendable (inout UpgradeContext) throws -> Void
}

/// The importer's op table, split by family (`Registry+Math.swift`, `+Activations`, `+NN`,
/// `+Tensor`, `+Indexing`, `+Quantized`, `+ControlFlow`, `+Signal`, `+ML`). An op not in it is
/// kept as an opaque node and reported.
struct OpRegistry: Sendable {
    private(set) var schemas: [String: OpSchema] = [:]

    static func key(_ opType: String, _ domain: String) -> String { "\(domain)\u{1}\(opType)" }

    /// Registers an ai.onnx op importable from opset `since` (or 7, the oldest supported)
    /// up to `until` (the canonical opset unless the op was removed from ONNX).
    mutating func onnx(
        _ opType: String, since: Int = 7, until: Int = Model.canonicalOpset,
        _ upgrade: @escaping @Sendable (inout UpgradeContext) throws -> Void = { _ in }
    ) {
        let lower = max(since, ONNXImporter.supportedOpsets.lowerBound)
        schemas[Self.key(opType, "")] = OpSchema(opType: opType, domain: "", versions: lower...max(lower, until), upgrade: upgrade)
    }

    /// Registers an ai.onnx.ml op importable from ml opset `since` to the newest one.
    mutating func ml(_ opType: String, since: Int = 1, _ upgrade: @escaping @Sendable (inout UpgradeContext) throws -> Void = { _ in }) {
        schemas[Self.key(opType, "ai.onnx.ml")] = OpSchema(
            opType: opType, domain: "ai.onnx.ml", versions: since...Opsets.supportedML.upperBound, upgrade: upgrade)
    }

    mutating func microsoft(_ opType: String, _ upgrade: @escaping @Sendable (inout UpgradeContext) throws -> Void = { _ in }) {
        schemas[Self.key(opType, "com.microsoft")] = OpSchema(opType: opType, domain: "com.microsoft", versions: 1...1, upgrade: upgrade)
    }

    static let standard: OpRegistry = {
        var r = OpRegistry()
        r.registerMath()
        r.registerActivations()
        r.registerNN()
        r.registerTensor()
        r.registerIndexing()
        r.registerQuantized()
        r.registerControlFlow()
        r.registerSignal()
        r.registerML()
        return r
    }()

    /// Every registered (domain, op, opsets), for docs and `flotilla inspect`.
    static var supportedOps: [(domain: String, opType: String, versions: ClosedRange<Int>)] {
        standard.schemas.values.map { ($0.domain, $0.opType, $0.versions) }.sorted { ($0.domain, $0.opType) < ($1.domain, $1.opType) }
    }
}

/// A node being rewritten to canonical form, with room for the constants and helper nodes the
/// rewrite needs.
struct UpgradeContext {
    var node: Node
    /// The opset the node was written against.
    let opset: Int
    var names: NameAllocator
    var prelude: [Node] = []
    var postlude: [Node] = []
    var initializers: [String: Tensor] = [:]

    init(node: Node, opset: Int, names: NameAllocator) {
        self.node = node
        self.opset = opset
        self.names = names
    }

    func fail(_ attribute: String, _ detail: String) -> ONNXImportError {
        .invalidAttribute(node: node.name, attribute: attribute, detail: detail)
    }

    /// Adds a constant and returns its (fresh) value name.
    mutating func constant(_ t: Tensor, _ label: String) -> String {
        let name = names.fresh("\(node.name)_\(label)")
        initializers[name] = t
        return name
    }

    /// Sets input `index`, padding omitted inputs with "".
    mutating func setInput(_ index: Int, _ value: String) {
        while node.inputs.count <= index { node.inputs.append("") }
        node.inputs[index] = value
    }

    /// Moves attribute `name` to input `index` as a constant; an input already present wins.
    mutating func attributeToInput(_ name: String, at index: Int, _ convert: (Attribute) throws -> Tensor?) throws {
        guard let a = node.attributes.removeValue(forKey: name) else { return }
        guard node.input(index) == nil else { return }
        guard let t = try convert(a) else { throw fail(name, "has an unexpected type (\(a))") }
        setInput(index, constant(t, name))
    }

    static func int64Vector(_ a: Attribute) -> Tensor? {
        if let v = a.intsValue { return Tensor.vector(v.map(Int64.init)) }
        if let v = a.intValue { return Tensor.vector([Int64(v)]) }
        return nil
    }

    static func floatScalar(_ a: Attribute) -> Tensor? { a.floatValue.map { Tensor.scalar($0) } }

    /// Removes trailing omitted inputs ("" at the end), which are equivalent to absent ones.
    mutating func trimInputs() {
        while node.inputs.last == "" { node.inputs.removeLast() }
    }

    /// Converts an ONNX data-type attribute (an int) to the canonical ElementType name.
    mutating func dataTypeAttribute(_ name: String) throws {
        guard let a = node.attributes[name] else { return }
        if case .string(let s) = a, ElementType(rawValue: s) != nil { return }
        guard let code = a.intValue else { throw fail(name, "must be an ONNX data type number") }
        guard let et = ONNXDataType.elementType(code) ?? (code == ONNXDataType.bfloat16 ? .float32 : nil) else {
            throw fail(name, "data type \(code) (\(ONNXDataType.name(code))) is not supported")
        }
        node.attributes[name] = .string(et.rawValue)
    }
}
