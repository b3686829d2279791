/// The result of `flotilla bench`, as printed and as `--json` (the benchmark scripts read it).
struct BenchReport: Codable {
    struct Input: Codable {
        var name: String
        var elementType: String
        var shape: [Int]
        var source: String

        enum CodingKeys: String, CodingKey { case name, elementType = "element_type", shape, source }
    }

    var model: String
    var kernels: String
    var threads: Int
    var bindings: [String: Int]
    var inputs: [Input]
    var warmup: Int
    var planMs: Double
    var latencyUs: LatencyStats
    var histogram: LatencyHistogram
    var steps: Int
    var peakArenaBytes: Int
    var naiveArenaBytes: Int
    var constantBytes: Int
    var profile: OpProfile?

    enum CodingKeys: String, CodingKey {
        case model, kernels, threads, bindings, inputs, warmup, planMs = "plan_ms", latencyUs = "latency_us", histogram, steps
        case peakArenaBytes = "peak_arena_bytes", naiveArenaBytes = "naive_arena_bytes", constantBytes = "constant_bytes", profile
    }

    func renderText() -> String {
        var out: [String] = []
        let b = bindings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        out.append("Model    \(model)")
        out.append("Kernels  \(kernels), 1 thread\(b.isEmpty ? "" : ", \(b)")")
        for i in inputs { out.append("Input    \(i.name): \(i.elementType)\(i.shape) from \(i.source)") }
        out.append(
            "Plan     \(steps) steps, arena \(Format.bytes(peakArenaBytes)) (unshared \(Format.bytes(naiveArenaBytes))), "
                + "constants \(Format.bytes(constantBytes)), planned in \(String(format: "%.1f", planMs)) ms")
        out.append("")
        out.append("Latency over \(latencyUs.runs) runs after \(warmup) warm-up runs (µs)")
        var table = TextTable(["p50", "p95", "p99", "min", "mean", "max", "stddev"], alignments: Array(repeating: .right, count: 7))
        let s = latencyUs
        table.add([s.p50, s.p95, s.p99, s.min, s.mean, s.max, s.stddev].map(Format.micros))
        out.append(table.render())
        out.append("")
        out.append(histogram.render())
        if let p = profile {
            out.append("")
            out.append(
                "Time per op type as executed (sum of step medians \(Format.micros(p.sumOfNodesUs)) µs vs whole-model p50 "
                    + "\(Format.micros(s.p50)) µs; \(p.repeats) runs per node)")
            var kinds = TextTable(["op", "nodes", "µs", "share"], alignments: [.left, .right, .right, .right])
            for k in p.byKind { kinds.add([k.kind, String(k.nodes), Format.micros(k.totalUs), String(format: "%.1f%%", 100 * k.share)]) }
            out.append(kinds.render())
            out.append("")
            out.append("Time per executed step, slowest first (\(p.nodes.count) steps)")
            var nodes = TextTable(["node", "op", "output", "µs", "fused from"], alignments: [.left, .left, .left, .right, .left])
            for n in p.nodes.sorted(by: { $0.medianUs > $1.medianUs }) {
                let others = n.sources.filter { $0 != n.node }
                nodes.add([n.node, n.kind, "\(n.outputShape)", Format.micros(n.medianUs), others.joined(separator: ", ")])
            }
            out.append(nodes.render())
            out.append("  (\(p.method))")
            if !p.skipped.isEmpty { out.append("  not profiled: " + p.skipped.joined(separator: "; ")) }
        }
        return out.joined(separator: "\n")
    }
}
