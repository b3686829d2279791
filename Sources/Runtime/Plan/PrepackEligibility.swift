import ModelIR

/// Which initializers an artifact-build pre-pack (Q8GemmPrepack, F32GemmPrepack) may take out of
/// a model: only those nothing but their one reader can see, so replacing the plain tensor by a
/// kernel layout cannot change what any other node, subgraph or caller reads.
enum PrepackEligibility {
    /// Main-graph initializers read exactly once in the whole model (subgraphs included) that
    /// are neither a graph input nor a graph output.
    static func singleReaderInitializers(of graph: Graph) -> Set<String> {
        var reads: [String: Int] = [:]
        countReads(graph, into: &reads)
        let boundary = Set(graph.inputs.map(\.name)).union(graph.outputs.map(\.name))
        return Set(graph.initializers.keys.filter { reads[$0] == 1 && !boundary.contains($0) })
    }

    /// `model` without the initializers `names` (their packed forms travel beside it).
    static func stripping(_ names: some Sequence<String>, from model: Model) -> Model {
        var stripped = model
        for name in names { stripped.graph.initializers[name] = nil }
        return stripped
    }

    /// How many times each name is read as a node input, in `graph` and every subgraph (a
    /// subgraph reads outer names by capture, and its outputs may name them too).
    private static func countReads(_ graph: Graph, into reads: inout [String: Int]) {
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty { reads[input, default: 0] += 1 }
            for sub in node.subgraphs {
                countReads(sub, into: &reads)
                for output in sub.outputs { reads[output.name, default: 0] += 1 }
            }
        }
    }
}
