import ModelIR
import Runtime

/// Time per node and per op type, measured inside whole-model runs through the runtime's
/// per-step hook (`Session.run(inputs:outputs:profile:)`): each executed step is timed where it
/// runs, with the real intermediate values and the cache state of a real run. A step is one
/// node of the plan as it executes, after every fusion: a Conv carrying its BatchNorm and Relu
/// is one step named for the Conv, and in a QDQ model DequantizeLinear → Conv → QuantizeLinear
/// is one QLinearConv step (named for the Conv, `sources` listing the nodes it replaced).
struct OpProfile: Codable {
    struct NodeTime: Codable {
        var node: String
        var op: String
        var kind: String
        var outputShape: [Int]
        var medianUs: Double
        /// The model's nodes this step runs for (more than the node itself when fused).
        var sources: [String]

        enum CodingKeys: String, CodingKey { case node, op, kind, outputShape = "output_shape", medianUs = "median_us", sources }
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
    /// Nodes with no step of their own: folded at plan time, fused into another node's step, or
    /// views of their input (Reshape, Flatten...).
    var foldedNodes: [String]
    /// Kept for the JSON format (an earlier profiler ran nodes alone and could fail); always empty.
    var skipped: [String]

    enum CodingKeys: String, CodingKey {
        case method, repeats, nodes, byKind = "by_kind", sumOfNodesUs = "sum_of_nodes_us", foldedNodes = "folded_nodes", skipped
    }
}

extension OpProfile {
    static let methodNote =
        "each step timed inside whole-model runs (runtime step hook; clock read per step, about 50 ns "
        + "of overhead each); nodes fused into a step or folded at plan time have no time of their own"

    static func measure(
        model: Model, bindings: [String: Int], kernels: KernelPath, threads: Int = 1, channelsLast: Bool = true,
        feeds: [String: Tensor], repeats: Int, progress: Progress
    ) throws -> OpProfile {
        let graph = model.graph
        var options = ExecutionPlan.Options(kernels: kernels, threads: threads)
        options.channelsLast = channelsLast
        let plan = try ExecutionPlan(model: model, bindings: bindings, options: options)
        let session = plan.makeSession()
        var storage: [UnsafeMutableRawBufferPointer] = []
        defer { for b in storage { b.deallocate() } }
        var outputs: [String: UnsafeMutableRawBufferPointer] = [:]
        for o in plan.outputs {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(o.type.byteCount, 1), alignment: 64)
            storage.append(b)
            outputs[o.name] = UnsafeMutableRawBufferPointer(rebasing: b[0..<o.type.byteCount])
        }
        var profile = plan.makeProfile()
        for _ in 0..<3 { try session.run(inputs: feeds, outputs: outputs, profile: &profile) }
        var samples = [[Double]](repeating: [], count: profile.steps.count)
        for i in samples.indices { samples[i].reserveCapacity(repeats) }
        for r in 0..<repeats {
            progress.update(r)
            try session.run(inputs: feeds, outputs: outputs, profile: &profile)
            for i in samples.indices { samples[i].append(Double(profile.lastNanoseconds[i]) / 1000) }
        }
        progress.finish()
        var times: [NodeTime] = []
        for (i, step) in profile.steps.enumerated() {
            times.append(
                NodeTime(
                    node: step.node, op: step.opType, kind: Self.kind(of: step), outputShape: step.outputs.first?.shape ?? [],
                    medianUs: LatencyStats.percentile(samples[i].sorted(), 50), sources: step.sources))
        }
        let stepped = Set(profile.steps.flatMap(\.sources))
        let folded = graph.nodes.map(\.name).filter { !stepped.contains($0) }
        let sum = times.reduce(0) { $0 + $1.medianUs }
        var kinds: [String: (Int, Double)] = [:]
        for t in times {
            kinds[t.kind, default: (0, 0)].0 += 1
            kinds[t.kind, default: (0, 0)].1 += t.medianUs
        }
        let byKind = kinds.map { KindTime(kind: $0.key, nodes: $0.value.0, totalUs: $0.value.1, share: sum > 0 ? $0.value.1 / sum : 0) }
            .sorted { ($0.totalUs, $1.kind) > ($1.totalUs, $0.kind) }
        return OpProfile(
            method: methodNote, repeats: repeats, nodes: times, byKind: byKind, sumOfNodesUs: sum,
            foldedNodes: folded, skipped: [])
    }

    /// The op type as executed, with convolutions (fp32 Conv, QLinearConv, ConvInteger) split by
    /// shape: depthwise, pointwise (1×1) and k×k convolutions run different kernels and have
    /// very different costs per MAC.
    static func kind(of step: ExecutionPlan.StepInfo) -> String {
        let weightInput: Int
        switch step.opType {
        case "Conv", "ConvInteger": weightInput = 1
        case "QLinearConv", "com.microsoft:QLinearConv": weightInput = 3
        default: return step.opType
        }
        // ChannelsLastPass's convs (and ORT's NHWC form) keep their op name and say "nhwc".
        let layout = step.attributes["channels_last"]?.intValue == 1 ? " nhwc" : ""
        guard weightInput < step.inputs.count, let w = step.inputs[weightInput]?.shape, w.count >= 3 else { return step.opType }
        let group = step.attributes["group"]?.intValue ?? 1
        let kernel = w.dropFirst(2)
        if group > 1 && w[1] == 1 { return "\(step.opType) depthwise \(kernel.map(String.init).joined(separator: "x"))\(layout)" }
        if kernel.allSatisfy({ $0 == 1 }) { return "\(step.opType) 1x1\(layout)" }
        return "\(step.opType) \(kernel.map(String.init).joined(separator: "x"))" + (group > 1 ? " grouped" : "") + layout
    }
}
