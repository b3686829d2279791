import ModelIR
import Runtime

/// Time per node and per op type, measured by planning and running each node of the
/// (imported, passed) graph on its own.
///
/// `Session` has no per-step timing hook, so each node becomes a one-node graph: values the
/// full plan computes at plan time (initializers and the outputs of nodes whose inputs are all
/// constant, which the planner folds) are initializers; every other input is a graph input fed
/// with the *real* intermediate value, taken from one run of the whole model with every
/// intermediate exposed as an output (real values matter: Gather indices, If conditions).
///
/// What this measures differs from a step inside the full run in two ways, both stated in the
/// output: each run copies the node's inputs into a fresh arena and its outputs out (a memcpy
/// per run, small beside a convolution but visible on cheap elementwise ops), and caches are
/// warm with only this node's data. The sum of the node medians is printed beside the whole
/// model's p50 so the difference is visible.
struct OpProfile: Codable {
    struct NodeTime: Codable {
        var node: String
        var op: String
        var kind: String
        var outputShape: [Int]
        var medianUs: Double

        enum CodingKeys: String, CodingKey { case node, op, kind, outputShape = "output_shape", medianUs = "median_us" }
    }

    struct KindTime: Codable {
        var kind: String
        var nodes: Int
        var totalUs: Double
        var share: Double

        enum CodingKeys: String, CodingKey { case kind, nodes, totalUs = "total_us", share }
    }

    var method: String
    var repeats: Int
    var nodes: [NodeTime]
    var byKind: [KindTime]
    var sumOfNodesUs: Double
    /// Nodes with no step: folded at plan time, or views of their input (no step in the full plan either).
    var foldedNodes: [String]
    /// Nodes that could not be profiled alone, with the reason.
    var skipped: [String]

    enum CodingKeys: String, CodingKey {
        case method, repeats, nodes, byKind = "by_kind", sumOfNodesUs = "sum_of_nodes_us", foldedNodes = "folded_nodes", skipped
    }
}

extension OpProfile {
    static let methodNote = "each node planned and run alone on the real intermediate values; includes a copy of the node's "
        + "inputs and outputs per run, which the full run does not do"

    static func measure(model: Model, bindings: [String: Int], kernels: KernelPath, feeds: [String: Tensor],
                        repeats: Int, progress: Progress) throws -> OpProfile {
        let graph = model.graph
        let values = try intermediateValues(graph, bindings: bindings, kernels: kernels, feeds: feeds)
        var constants = Set(graph.initializers.keys.filter { graph.constant($0) != nil })
        var times: [NodeTime] = []
        var folded: [String] = []
        var skipped: [String] = []
        for (index, node) in graph.nodes.enumerated() {
            progress.update(index)
            var single = Graph(name: "profile:\(node.name)", nodes: [node])
            var nodeFeeds: [String: Tensor] = [:]
            var reads = node.inputs.filter { !$0.isEmpty }
            for g in node.subgraphs { reads += g.capturedValues.sorted() }
            var missing: String?
            for name in reads where single.initializers[name] == nil && nodeFeeds[name] == nil {
                guard let value = values[name] ?? graph.initializers[name] else {
                    missing = name
                    break
                }
                if constants.contains(name) {
                    single.initializers[name] = value
                } else {
                    single.inputs.append(ValueInfo(name, value.tensorType))
                    nodeFeeds[name] = value
                }
            }
            if let missing {
                skipped.append("\(node.name): no value for its input '\(missing)'")
                continue
            }
            single.outputs = node.outputs.filter { !$0.isEmpty }.map { ValueInfo($0, values[$0]?.tensorType ?? TensorType(.float32, nil)) }
            do {
                let plan = try ExecutionPlan(graph: single, options: .init(kernels: kernels))
                if plan.stepCount == 0 {
                    // No step: folded at plan time when every input is constant (its outputs
                    // are then constants for later nodes too), otherwise a view of its input
                    // (Reshape, Flatten...), which costs nothing in the full run either.
                    folded.append(node.name)
                    if reads.allSatisfy(constants.contains) {
                        for o in node.outputs where !o.isEmpty { constants.insert(o) }
                    }
                    continue
                }
                let median = try time(plan, feeds: nodeFeeds, repeats: repeats)
                let shape = node.outputs.first.flatMap { values[$0]?.shape } ?? []
                times.append(NodeTime(node: node.name, op: node.qualifiedOpType, kind: kind(of: node, in: graph),
                                      outputShape: shape, medianUs: median))
            } catch {
                skipped.append("\(node.name): \(error)")
            }
        }
        progress.finish()
        let sum = times.reduce(0) { $0 + $1.medianUs }
        var kinds: [String: (Int, Double)] = [:]
        for t in times {
            kinds[t.kind, default: (0, 0)].0 += 1
            kinds[t.kind, default: (0, 0)].1 += t.medianUs
        }
        let byKind = kinds.map { KindTime(kind: $0.key, nodes: $0.value.0, totalUs: $0.value.1, share: sum > 0 ? $0.value.1 / sum : 0) }
            .sorted { ($0.totalUs, $1.kind) > ($1.totalUs, $0.kind) }
        return OpProfile(method: methodNote, repeats: repeats, nodes: times, byKind: byKind, sumOfNodesUs: sum,
                         foldedNodes: folded, skipped: skipped)
    }

    /// Every value of the graph from one run with every node output exposed as a graph output.
    private static func intermediateValues(_ graph: Graph, bindings: [String: Int], kernels: KernelPath,
                                           feeds: [String: Tensor]) throws -> [String: Tensor] {
        var all = graph
        var seen = Set(graph.outputs.map(\.name))
        for node in graph.nodes {
            for o in node.outputs where !o.isEmpty && seen.insert(o).inserted {
                all.outputs.append(ValueInfo(o, graph.type(of: o) ?? TensorType(.float32, nil)))
            }
        }
        let plan = try ExecutionPlan(graph: all, bindings: bindings, options: .init(kernels: kernels))
        return try plan.makeSession().run(inputs: feeds).merging(feeds) { computed, _ in computed }
    }

    /// Median microseconds of `repeats` runs after a short warm-up, outputs written into
    /// preallocated buffers (no allocation inside the timed loop).
    private static func time(_ plan: ExecutionPlan, feeds: [String: Tensor], repeats: Int) throws -> Double {
        let session = plan.makeSession()
        var storage: [UnsafeMutableRawBufferPointer] = []
        defer { for b in storage { b.deallocate() } }
        var outputs: [String: UnsafeMutableRawBufferPointer] = [:]
        for o in plan.outputs {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(o.type.byteCount, 1), alignment: 64)
            storage.append(b)
            outputs[o.name] = UnsafeMutableRawBufferPointer(rebasing: b[0..<o.type.byteCount])
        }
        for _ in 0..<3 { try session.run(inputs: feeds, outputs: outputs) }
        var samples: [Double] = []
        samples.reserveCapacity(repeats)
        for _ in 0..<repeats {
            let start = MonotonicClock.nanoseconds()
            try session.run(inputs: feeds, outputs: outputs)
            samples.append(Double(MonotonicClock.nanoseconds() - start) / 1000)
        }
        return LatencyStats.percentile(samples.sorted(), 50)
    }

    /// The op type, with convolutions split by shape: depthwise, pointwise (1×1) and k×k
    /// convolutions run different kernels and have very different costs per MAC.
    static func kind(of node: Node, in graph: Graph) -> String {
        guard node.domain.isEmpty, node.opType == "Conv", let w = node.input(1).flatMap({ graph.type(of: $0)?.shape?.concrete }),
              w.count >= 3
        else { return node.qualifiedOpType }
        let group = node.int("group") ?? 1
        let kernel = w.dropFirst(2)
        if group > 1 && w[1] == 1 { return "Conv depthwise \(kernel.map(String.init).joined(separator: "x"))" }
        if kernel.allSatisfy({ $0 == 1 }) { return "Conv 1x1" }
        return "Conv \(kernel.map(String.init).joined(separator: "x"))" + (group > 1 ? " grouped" : "")
    }
}
