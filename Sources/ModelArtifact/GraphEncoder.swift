import ModelIR

/// Model → graph-section JSON + weights-section bytes.
///
/// Tensor bytes are appended in one fixed traversal (main-graph initializers and packed
/// weights by name, then nodes in order, attributes by key, subgraphs depth first), so the
/// same model always gives the same bytes.
struct GraphEncoder {
    private(set) var weights = TensorDataBuilder()

    mutating func encode(_ model: Model, packedWeights: [String: PackedTensor]) throws(ArtifactError) -> JSONValue {
        for (name, packed) in packedWeights {
            if model.graph.initializers[name] != nil {
                throw .unsupportedModel(
                    path: "graph.initializers.\(name)",
                    detail:
                        "the name is both a plain initializer and a packed weight; a packed weight replaces the initializer, remove one of them"
                )
            }
            // PackedTensor validated its layout and shape when it was made; rank is this format's limit.
            guard packed.shape.count <= ArtifactFormat.maxRank else {
                throw .unsupportedModel(
                    path: "packed weight '\(name)'",
                    detail: "logical shape \(packed.shape) exceeds rank \(ArtifactFormat.maxRank), which readers refuse")
            }
        }
        let graph = try encode(model.graph, path: "graph", packed: packedWeights)
        return .object([
            "model": .object([
                "opsetImports": .object(model.opsetImports.mapValues(JSONValue.integer)),
                "producerName": .string(model.producerName),
                "producerVersion": .string(model.producerVersion),
                "metadata": .object(model.metadata.mapValues(JSONValue.string)),
            ]),
            "graph": graph,
        ])
    }

    private mutating func encode(_ graph: Graph, path: String, packed: [String: PackedTensor] = [:], depth: Int = 0) throws(ArtifactError)
        -> JSONValue
    {
        guard depth <= ArtifactFormat.maxSubgraphDepth else {
            throw .unsupportedModel(
                path: path, detail: "subgraphs nest deeper than \(ArtifactFormat.maxSubgraphDepth) levels, which readers refuse")
        }
        var initializers: [String: JSONValue] = [:]
        let names = (Array(graph.initializers.keys) + Array(packed.keys)).sorted(by: Self.utf8Order)
        for name in names {
            if let tensor = graph.initializers[name] {
                initializers[name] = try encode(tensor, path: "\(path).initializers.\(name)")
            } else if let p = packed[name] {
                initializers[name] = TensorCoding.encode(p, into: &weights)
            }
        }
        var nodes: [JSONValue] = []
        for (i, node) in graph.nodes.enumerated() {
            nodes.append(try encode(node, path: "\(path).nodes[\(i)]", depth: depth))
        }
        return .object([
            "name": .string(graph.name),
            "inputs": .array(graph.inputs.map(IRCoding.encode)),
            "outputs": .array(graph.outputs.map(IRCoding.encode)),
            "nodes": .array(nodes),
            "initializers": .object(initializers),
            "valueTypes": .object(graph.valueTypes.mapValues(IRCoding.encode)),
        ])
    }

    private mutating func encode(_ node: Node, path: String, depth: Int) throws(ArtifactError) -> JSONValue {
        var attributes: [String: JSONValue] = [:]
        for key in node.attributes.keys.sorted(by: Self.utf8Order) {
            guard let attribute = node.attributes[key] else { continue }
            attributes[key] = try encode(attribute, path: "\(path).attributes.\(key)", depth: depth)
        }
        var members: [String: JSONValue] = [
            "name": .string(node.name),
            "opType": .string(node.opType),
            "domain": .string(node.domain),
            "inputs": .strings(node.inputs),
            "outputs": .strings(node.outputs),
            "attributes": .object(attributes),
        ]
        if let activation = node.fusedActivation { members["fusedActivation"] = IRCoding.encode(activation) }
        return .object(members)
    }

    private mutating func encode(_ attribute: Attribute, path: String, depth: Int) throws(ArtifactError) -> JSONValue {
        switch attribute {
        case .int(let v): return .object(["int": .integer(v)])
        case .float(let v): return .object(["float": .float(v)])
        case .string(let v): return .object(["string": .string(v)])
        case .ints(let v): return .object(["ints": .array(v.map(JSONValue.integer))])
        case .floats(let v): return .object(["floats": .array(v.map(JSONValue.float))])
        case .strings(let v): return .object(["strings": .strings(v)])
        case .tensor(let t): return .object(["tensor": try encode(t, path: path)])
        case .tensors(let ts):
            var items: [JSONValue] = []
            for (i, t) in ts.enumerated() { items.append(try encode(t, path: "\(path)[\(i)]")) }
            return .object(["tensors": .array(items)])
        case .graph(let g): return .object(["graph": try encode(g, path: path, depth: depth + 1)])
        case .graphs(let gs):
            var items: [JSONValue] = []
            for (i, g) in gs.enumerated() { items.append(try encode(g, path: "\(path)[\(i)]", depth: depth + 1)) }
            return .object(["graphs": .array(items)])
        }
    }

    private mutating func encode(_ tensor: Tensor, path: String) throws(ArtifactError) -> JSONValue {
        guard tensor.shape.count <= ArtifactFormat.maxRank else {
            throw .unsupportedModel(path: path, detail: "rank \(tensor.shape.count) exceeds \(ArtifactFormat.maxRank)")
        }
        return TensorCoding.encode(tensor, into: &weights)
    }

    static func utf8Order(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
}
