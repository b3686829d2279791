import Foundation
import ModelIR
import Runtime

extension ModelEvaluator {
    /// fp32 value vs the int8 model's bytes for it, dequantized. Both models run with the
    /// tensors as extra graph outputs (the QuantizeLinear outputs on the int8 side, which the
    /// fused int8 ops write directly).
    func layerSQNR(_ q: QuantizedModel, fp32: Model, data: EvaluationSet) throws -> [LayerSQNR] {
        let names = q.quantizedValues.keys.filter { q.activationParameters[$0] != nil }.sorted()
        var fg = fp32.graph, qg = q.model.graph
        let fpOutputs = Set(fg.outputs.map(\.name)), qOutputs = Set(qg.outputs.map(\.name))
        for v in names {
            if !fpOutputs.contains(v) && !fg.isGraphInput(v) { fg.outputs.append(ValueInfo(v, TensorType(.float32, nil))) }
            if let qn = q.quantizedValues[v], !qOutputs.contains(qn) { qg.outputs.append(ValueInfo(qn, TensorType(.uint8, nil))) }
        }
        let f = try run(fg, inputs: data.inputs), i = try run(qg, inputs: data.inputs)
        var out: [LayerSQNR] = []
        for v in names {
            guard let p = q.activationParameters[v], let qn = q.quantizedValues[v],
                let x = f[v]?.floats ?? data.inputs[v]?.floats, let t = i[qn]
            else { continue }
            let codes: [Int32] = t.uint8s.map { $0.map { Int32($0) } } ?? t.int8s.map { $0.map { Int32($0) } } ?? []
            guard codes.count == x.count else { continue }
            var signal = 0.0, noise = 0.0
            for k in x.indices {
                let d = Double(x[k]) - Double(p.dequantize(codes[k]))
                signal += Double(x[k]) * Double(x[k])
                noise += d * d
            }
            let db = noise == 0 ? 200 : (signal == 0 ? -200 : 10 * log10(signal / noise))
            out.append(LayerSQNR(value: v, decibels: db))
        }
        return out.sorted { $0.decibels < $1.decibels }
    }

    func sizes(fp32: Model, int8: Model) -> ModelSizes {
        func bytes(_ g: Graph) -> [UInt8] {
            g.initializers.keys.sorted().flatMap { k in g.initializers[k].map { t in t.withUnsafeBytes { Array($0) } } ?? [] }
        }
        let q = bytes(int8.graph)
        return ModelSizes(
            fp32Bytes: fp32.graph.initializers.values.reduce(0) { $0 + $1.byteCount },
            int8Bytes: q.count, int8ZstdBytes: compressedSize?(q))
    }

    /// Median of `latencyRuns` timed runs at batch 1 with this CPU's widest kernels.
    func latency(fp32: Model, int8: Model, data: EvaluationSet) throws -> Latency {
        func median(_ g: Graph) throws -> (Double, String) {
            let p = try plan(g, inputs: data.inputs, kernels: .automatic)
            let s = p.makeSession()
            _ = try s.run(inputs: data.inputs)
            let clock = ContinuousClock()
            var times: [Double] = []
            for _ in 0..<max(latencyRuns, 1) {
                let t0 = clock.now
                _ = try s.run(inputs: data.inputs)
                let d = clock.now - t0
                times.append(Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15)
            }
            times.sort()
            return (times[times.count / 2], p.int8KernelPathName)
        }
        let (f, _) = try median(fp32.graph)
        let (i, path) = try median(int8.graph)
        return Latency(
            fp32Milliseconds: f, int8Milliseconds: i, runs: max(latencyRuns, 1),
            host: "this host, int8 path \(path), batch 1, median")
    }
}
