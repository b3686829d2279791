import ModelIR

/// Graph-section JSON + the weights section → Model and packed weights, checking every field
/// and every tensor reference. Tensors borrow the weights section (no copy).
struct GraphDecoder {
    let weights: TensorCoding.Source

    func decode(_ root: JSONField) throws(ArtifactError) -> (model: Model, packed: [String: PackedTensor]) {
        let m = try root.field("model")
        var opsets: [String: Int] = [:]
        for (domain, version) in try m.field("opsetImports").members() { opsets[domain] = try version.int() }
        var packed: [String: PackedTensor] = [:]
        let graph = try decodeGraph(try root.field("graph"), depth: 0, packed: &packed)
        let model = Model(
            graph: graph, opsetImports: opsets, producerName: try m.field("producerName").string(),
            producerVersion: try m.field("producerVersion").string(), metadata: try m.field("metadata").stringMap())
        return (model, packed)
    }

    /// `packed` collects packed weights; only the main graph (depth 0) may hold them.
    private func decodeGraph(_ field: JSONField, depth: Int, packed: inout [String: PackedTensor]) throws(ArtifactError) -> Graph {
        guard depth <= ArtifactFormat.maxSubgraphDepth else {
            throw field.fail("subgraphs nest deeper than \(ArtifactFormat.maxSubgraphDepth) levels")
        }
        var graph = Graph(name: try field.field("name").string())
        for item in try field.field("inputs").array() { graph.inputs.append(try IRCoding.valueInfo(item)) }
        for item in try field.field("outputs").array() { graph.outputs.append(try IRCoding.valueInfo(item)) }
        for (name, t) in try field.field("initializers").members() {
            if try TensorCoding.isPacked(t) {
                guard depth == 0 else { throw t.fail("packed weights are allowed in the main graph only") }
                packed[name] = try TensorCoding.packed(t, from: weights)
            } else {
                graph.initializers[name] = try TensorCoding.tensor(t, from: weights)
            }
        }
        for (name, t) in try field.field("valueTypes").members() { graph.valueTypes[name] = try IRCoding.tensorType(t) }
        for item in try field.field("nodes").array() { graph.nodes.append(try decodeNode(item, depth: depth)) }
        return graph
    }

    private func decodeNode(_ field: JSONField, depth: Int) throws(ArtifactError) -> Node {
        var attributes: [String: Attribute] = [:]
        for (key, a) in try field.field("attributes").members() { attributes[key] = try decodeAttribute(a, depth: depth) }
        return Node(
            name: try field.field("name").string(), opType: try field.field("opType").string(),
            domain: try field.field("domain").string(), inputs: try field.field("inputs").strings(),
            outputs: try field.field("outputs").strings(), attributes: attributes,
            fusedActivation: try field.optionalField("fusedActivation").map { (f) throws(ArtifactError) in try IRCoding.activation(f) })
    }

    private func decodeAttribute(_ field: JSONField, depth: Int) throws(ArtifactError) -> Attribute {
        let members = try field.members()
        guard members.count == 1, let (kind, value) = members.first else {
            throw field.fail(
                "an attribute is an object with exactly one key naming its kind (int, float, string, tensor, graph, ints, floats, strings, tensors, graphs)"
            )
        }
        var none: [String: PackedTensor] = [:]
        switch kind {
        case "int": return .int(try value.int())
        case "float": return .float(try value.float())
        case "string": return .string(try value.string())
        case "tensor": return .tensor(try TensorCoding.tensor(value, from: weights))
        case "graph": return .graph(try decodeGraph(value, depth: depth + 1, packed: &none))
        case "ints":
            var out: [Int] = []
            for item in try value.array() { out.append(try item.int()) }
            return .ints(out)
        case "floats":
            var out: [Float] = []
            for item in try value.array() { out.append(try item.float()) }
            return .floats(out)
        case "strings": return .strings(try value.strings())
        case "tensors":
            var out: [Tensor] = []
            for item in try value.array() { out.append(try TensorCoding.tensor(item, from: weights)) }
            return .tensors(out)
        case "graphs":
            var out: [Graph] = []
            for item in try value.array() { out.append(try decodeGraph(item, depth: depth + 1, packed: &none)) }
            return .graphs(out)
        default:
            throw field.fail("unknown attribute kind \"\(kind)\"")
        }
    }
}
