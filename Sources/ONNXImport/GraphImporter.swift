import Foundation
import ModelIR
import ONNXProto

/// Converts one GraphProto (and, recursively, its subgraphs) into an IR graph, upgrading
/// every node through the op registry and collecting the nodes no entry handles.
struct GraphImporter {
    let opsets: Opsets
    let reader: TensorReader
    let initializerInputsAreConstants: Bool
    private(set) var unsupported: [UnsupportedOp] = []
    /// Graph outputs declared without a type; filled from inference after import.
    private var untypedOutputs: Set<String> = []
    private var nodeCounter = 0

    init(opsets: Opsets, reader: TensorReader, initializerInputsAreConstants: Bool) {
        self.opsets = opsets
        self.reader = reader
        self.initializerInputsAreConstants = initializerInputsAreConstants
    }

    mutating func graph(_ g: Onnx_GraphProto, isMain: Bool) throws -> Graph {
        if !g.sparseInitializer.isEmpty {
            throw ONNXImportError.invalidTensor(
                name: g.sparseInitializer[0].values.name, detail: "sparse initializers are not supported; densify them before export")
        }
        var initializers: [String: Tensor] = [:]
        for t in g.initializer {
            guard !t.name.isEmpty else { throw ONNXImportError.invalidTensor(name: "", detail: "an initializer has no name") }
            guard initializers[t.name] == nil else {
                throw ONNXImportError.invalidGraph(.duplicateDefinition(value: t.name, definedBy: ["initializer", "initializer"]))
            }
            initializers[t.name] = try reader.tensor(t)
        }
        var inputs: [ValueInfo] = []
        for v in g.input {
            if initializers[v.name] != nil && initializerInputsAreConstants { continue }
            inputs.append(try valueInfo(v, required: isMain))
        }
        var outputs: [ValueInfo] = []
        for v in g.output {
            outputs.append(try valueInfo(v, required: false))
            if !v.type.tensorType.hasElemType { untypedOutputs.insert(v.name) }
        }
        var valueTypes: [String: TensorType] = [:]
        for v in g.valueInfo where v.hasType && v.type.tensorType.hasElemType {
            valueTypes[v.name] = try valueInfo(v, required: false).type
        }
        var names = NameAllocator(graph: g)
        var nodes: [Node] = []
        for n in g.node {
            let irNode = try node(n, names: &names)
            guard let opset = opsets.version(irNode.domain) else {
                throw ONNXImportError.missingOpsetImport(node: irNode.name, opType: irNode.opType, domain: irNode.domain)
            }
            var upgrade = UpgradeContext(node: irNode, opset: opset, names: names)
            try upgradeNode(&upgrade, original: n)
            names = upgrade.names
            nodes += upgrade.prelude + [upgrade.node] + upgrade.postlude
            for (k, t) in upgrade.initializers { initializers[k] = t }
        }
        // Exporters pass an empty tensor for Resize's unused roi/scales; canonical form
        // omits the input ("") instead, so the runtime sees one spelling.
        for i in nodes.indices where nodes[i].domain.isEmpty && nodes[i].opType == "Resize" {
            for k in [1, 2] where k < nodes[i].inputs.count {
                if let t = initializers[nodes[i].inputs[k]], t.elementCount == 0 { nodes[i].inputs[k] = "" }
            }
            while nodes[i].inputs.last == "" { nodes[i].inputs.removeLast() }
        }
        return Graph(name: g.name, nodes: nodes, inputs: inputs, outputs: outputs, initializers: initializers, valueTypes: valueTypes)
    }

    private mutating func upgradeNode(_ upgrade: inout UpgradeContext, original: Onnx_NodeProto) throws {
        let n = upgrade.node
        let key = OpRegistry.key(n.opType, n.domain)
        guard let schema = OpRegistry.standard.schemas[key] else {
            unsupported.append(
                UnsupportedOp(node: n.name, opType: n.opType, domain: n.domain, opset: upgrade.opset, reason: "no importer for this op"))
            return
        }
        guard schema.versions.contains(upgrade.opset) else {
            unsupported.append(
                UnsupportedOp(
                    node: n.name, opType: n.opType, domain: n.domain, opset: upgrade.opset,
                    reason: "supported at opsets \(schema.versions.lowerBound)...\(schema.versions.upperBound)"))
            return
        }
        try schema.upgrade(&upgrade)
    }

    private mutating func node(_ n: Onnx_NodeProto, names: inout NameAllocator) throws -> Node {
        nodeCounter += 1
        let domain = n.domain == "ai.onnx" ? "" : n.domain
        let name = names.nodeName(n.name.isEmpty ? "\(n.opType)_\(nodeCounter)" : n.name)
        var attributes: [String: Attribute] = [:]
        for a in n.attribute {
            guard attributes[a.name] == nil else {
                throw ONNXImportError.invalidAttribute(node: name, attribute: a.name, detail: "appears twice")
            }
            attributes[a.name] = try attribute(a, node: name)
        }
        return Node(name: name, opType: n.opType, domain: domain, inputs: n.input, outputs: n.output, attributes: attributes)
    }

    private mutating func attribute(_ a: Onnx_AttributeProto, node: String) throws -> Attribute {
        func bad(_ d: String) -> ONNXImportError { .invalidAttribute(node: node, attribute: a.name, detail: d) }
        if a.hasRefAttrName { throw bad("references a function attribute; inline functions before import") }
        var type = a.type
        if type == .undefined {
            // Old exporters omit the type: infer it from the one field that is set.
            if a.hasF {
                type = .float
            } else if a.hasI {
                type = .int
            } else if a.hasS {
                type = .string
            } else if a.hasT {
                type = .tensor
            } else if a.hasG {
                type = .graph
            } else if !a.floats.isEmpty {
                type = .floats
            } else if !a.ints.isEmpty {
                type = .ints
            } else if !a.strings.isEmpty {
                type = .strings
            } else if !a.tensors.isEmpty {
                type = .tensors
            } else if !a.graphs.isEmpty {
                type = .graphs
            }
        }
        switch type {
        case .float: return .float(a.f)
        case .int: return .int(Int(clamping: a.i))
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .tensor: return .tensor(try reader.tensor(a.t, name: "\(node).\(a.name)"))
        case .graph: return .graph(try graph(a.g, isMain: false))
        case .floats: return .floats(a.floats)
        case .ints: return .ints(a.ints.map { Int(clamping: $0) })
        case .strings: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensors: return .tensors(try a.tensors.map { try reader.tensor($0, name: "\(node).\(a.name)") })
        case .graphs: return .graphs(try a.graphs.map { try graph($0, isMain: false) })
        default: throw bad("has type \(type), which Flotilla does not support (sparse tensors, type protos)")
        }
    }

    private func valueInfo(_ v: Onnx_ValueInfoProto, required: Bool) throws -> ValueInfo {
        guard !v.name.isEmpty else { throw ONNXImportError.unsupportedValueType(name: "", detail: "a graph input or output has no name") }
        if v.hasType, let kind = v.type.value {
            guard case .tensorType(let t) = kind else {
                throw ONNXImportError.unsupportedValueType(name: v.name, detail: "is a \(kind) value; Flotilla supports dense tensors only")
            }
            guard t.hasElemType else { return ValueInfo(v.name, TensorType(.float32, nil)) }
            guard let et = ONNXDataType.elementType(Int(t.elemType)) else {
                throw ONNXImportError.unsupportedValueType(
                    name: v.name, detail: "has element type \(ONNXDataType.name(Int(t.elemType))), which Flotilla does not support")
            }
            guard t.hasShape else { return ValueInfo(v.name, TensorType(et, nil)) }
            if let huge = t.shape.dim.first(where: { $0.dimValue > Int64(Int32.max) }) {
                throw ONNXImportError.unsupportedValueType(
                    name: v.name, detail: "declares dimension \(huge.dimValue), larger than 2^31 - 1; the model is corrupt or far too large"
                )
            }
            var unknown = 0
            let dims: [ModelIR.Dimension] = t.shape.dim.map { d in
                switch d.value {
                case .dimValue(let x)? where x >= 0: return .fixed(Int(clamping: x))
                case .dimParam(let s)? where !s.isEmpty && !s.hasPrefix("?"): return .symbolic(s)
                default:
                    unknown += 1
                    return .symbolic("\(v.name)_dim\(unknown)")
                }
            }
            return ValueInfo(v.name, TensorType(et, Shape(dims)))
        }
        if required {
            throw ONNXImportError.unsupportedValueType(name: v.name, detail: "graph input has no type; declare its element type and shape")
        }
        return ValueInfo(v.name, TensorType(.float32, nil))
    }

    /// Gives graph outputs declared without a type, or without a shape, what inference found.
    func fillUntypedOutputs(_ graph: inout Graph) {
        for i in graph.outputs.indices {
            let name = graph.outputs[i].name
            guard let t = graph.valueTypes[name] else { continue }
            if untypedOutputs.contains(name) || graph.outputs[i].type.shape == nil {
                graph.outputs[i].type = t
            }
        }
    }
}

/// Unique names: value names (for constants and intermediates the upgrades create) and node
/// names live in separate namespaces, as in ONNX, so a node named like its output keeps its
/// name.
struct NameAllocator {
    private var values: Set<String> = []
    private var nodes: Set<String> = []

    init(graph: Onnx_GraphProto) {
        for n in graph.node {
            values.formUnion(n.output)
            values.formUnion(n.input)
        }
        values.formUnion(graph.initializer.map(\.name))
        values.formUnion(graph.input.map(\.name))
        values.formUnion(graph.output.map(\.name))
    }

    mutating func fresh(_ base: String) -> String { Self.unique(base, in: &values) }
    mutating func nodeName(_ base: String) -> String { Self.unique(base, in: &nodes) }

    private static func unique(_ base: String, in set: inout Set<String>) -> String {
        var name = base
        var i = 1
        while set.contains(name) {
            name = "\(base)_\(i)"
            i += 1
        }
        set.insert(name)
        return name
    }
}
