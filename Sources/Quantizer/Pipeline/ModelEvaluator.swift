public import ModelIR
public import Runtime

/// Runs fp32 and QDQ models on labelled data and measures what the report shows. The QDQ model
/// is planned by the runtime, which fuses it into int8 ops (`QDQFusion`) and runs the int8
/// kernels of `kernels`: `.reference` is the numeric contract every class's optimized path
/// matches bit for bit, so one evaluation stands for every class's devices.
public struct ModelEvaluator: Sendable {
    /// The fp32 model's outputs on the evaluation set, computed once and reused for every
    /// candidate variant.
    public struct Reference: Sendable {
        public var scores: [Float]
        public var classes: Int
        public var accuracy: Double
    }

    public var kernels: KernelPath
    /// The output holding class scores; nil = the first float32 graph output.
    public var outputName: String?
    /// Samples used for per-layer SQNR (every quantized tensor is kept alive for them).
    public var sqnrSamples: Int
    /// Timed runs for the latency figure (after one warm-up).
    public var latencyRuns: Int
    /// Size of bytes after compression (the CLI passes zstd; the quantizer does not link it).
    public var compressedSize: (@Sendable ([UInt8]) -> Int?)?

    public init(
        kernels: KernelPath = .reference, outputName: String? = nil, sqnrSamples: Int = 256, latencyRuns: Int = 20,
        compressedSize: (@Sendable ([UInt8]) -> Int?)? = nil
    ) {
        self.kernels = kernels
        self.outputName = outputName
        self.sqnrSamples = sqnrSamples
        self.latencyRuns = latencyRuns
        self.compressedSize = compressedSize
    }

    /// Plans `graph` for the inputs' shapes (symbols bound from the tensors) and runs it. A model
    /// with a fixed batch (e.g. [1, 3, 96, 96]) runs in chunks of that batch, and its outputs
    /// are concatenated along axis 0.
    public func run(_ graph: Graph, inputs: [String: Tensor], kernels: KernelPath? = nil) throws -> [String: Tensor] {
        let k = kernels ?? self.kernels
        let count = inputs.values.first?.shape.first ?? 0
        guard let fixed = Self.fixedBatch(graph, inputs: inputs), fixed != count, fixed > 0, count % fixed == 0 else {
            return try plan(graph, inputs: inputs, kernels: k).makeSession().run(inputs: inputs)
        }
        var session: Session?
        var parts: [String: [Tensor]] = [:]
        for start in stride(from: 0, to: count, by: fixed) {
            var chunk: [String: Tensor] = [:]
            for (name, t) in inputs { chunk[name] = try EvaluationSet.rows(t, start..<(start + fixed)) }
            if session == nil { session = try plan(graph, inputs: chunk, kernels: k).makeSession() }
            for (name, t) in try session?.run(inputs: chunk) ?? [:] { parts[name, default: []].append(t) }
        }
        return try parts.mapValues(Self.concatenate)
    }

    /// The fixed size of axis 0 shared by every graph input that has one, if any.
    static func fixedBatch(_ graph: Graph, inputs: [String: Tensor]) -> Int? {
        let sizes = Set(graph.inputs.compactMap { i -> Int? in inputs[i.name] == nil ? nil : i.type.shape?.dims.first?.value })
        return sizes.count == 1 ? sizes.first : nil
    }

    static func concatenate(_ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first, first.rank > 0 else { return parts.first ?? .scalar(Float(0)) }
        var bytes: [UInt8] = []
        for p in parts { p.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        return try Tensor(
            elementType: first.elementType, shape: [parts.map { $0.shape[0] }.reduce(0, +)] + first.shape.dropFirst(), bytes: bytes)
    }

    func plan(_ graph: Graph, inputs: [String: Tensor], kernels: KernelPath) throws -> ExecutionPlan {
        var bindings: [String: Int] = [:]
        for i in graph.inputs {
            guard let t = inputs[i.name], let dims = i.type.shape?.dims, dims.count == t.rank else { continue }
            for (d, v) in zip(dims, t.shape) { if let s = d.symbol { bindings[s] = v } }
        }
        do {
            return try ExecutionPlan(graph: graph, bindings: bindings, options: .init(kernels: kernels))
        } catch {
            throw QuantizerError.graph(node: graph.name, detail: "cannot plan the model for evaluation: \(error)")
        }
    }

    func scoreOutput(_ graph: Graph) throws -> String {
        if let o = outputName { return o }
        guard let o = graph.outputs.first(where: { ($0.type.elementType) == .float32 }) else {
            throw QuantizerError.graph(node: graph.name, detail: "no float32 output holds class scores; name one with outputName")
        }
        return o.name
    }

    func scores(_ outputs: [String: Tensor], name: String, samples: Int) throws -> (values: [Float], classes: Int) {
        guard let t = outputs[name], let f = t.floats, samples > 0, f.count % samples == 0, f.count > 0 else {
            throw QuantizerError.graph(node: name, detail: "output is missing or not float32 with one row per sample")
        }
        return (f, f.count / samples)
    }

    public func reference(_ fp32: Model, data: EvaluationSet) throws -> Reference {
        let name = try scoreOutput(fp32.graph)
        let (s, c) = try scores(run(fp32.graph, inputs: data.inputs), name: name, samples: data.count)
        let top = Self.top1(s, classes: c)
        return Reference(scores: s, classes: c, accuracy: Self.accuracy(top, data.labels))
    }

    /// Accuracy, agreement and cosine only (what tuning compares candidates by).
    public func quickEvaluate(_ q: QuantizedModel, reference r: Reference, data: EvaluationSet) throws -> EvaluationResult {
        let name = try scoreOutput(q.model.graph)
        let (s, c) = try scores(run(q.model.graph, inputs: data.inputs), name: name, samples: data.count)
        guard c == r.classes else {
            throw QuantizerError.graph(node: name, detail: "int8 model gives \(c) scores per sample, fp32 \(r.classes)")
        }
        let top = Self.top1(s, classes: c), ref = Self.top1(r.scores, classes: c)
        let acc = Self.accuracy(top, data.labels)
        let agree = Double(zip(top, ref).filter { $0 == $1 }.count) / Double(max(top.count, 1))
        var cos = 0.0
        for i in 0..<data.count { cos += Self.cosine(s[(i * c)..<((i + 1) * c)], r.scores[(i * c)..<((i + 1) * c)]) }
        return EvaluationResult(
            samples: data.count, fp32Accuracy: r.accuracy, int8Accuracy: acc, dropPoints: (r.accuracy - acc) * 100,
            agreement: agree, meanCosine: cos / Double(data.count), layerSQNR: [], sizes: nil, latency: nil)
    }

    /// Everything: accuracy figures, per-layer SQNR, sizes and this host's latency.
    public func evaluate(_ q: QuantizedModel, fp32: Model, reference r: Reference, data: EvaluationSet) throws -> EvaluationResult {
        var result = try quickEvaluate(q, reference: r, data: data)
        result.layerSQNR = try layerSQNR(q, fp32: fp32, data: data.prefix(sqnrSamples))
        result.sizes = sizes(fp32: fp32, int8: q.model)
        result.latency = try latency(fp32: fp32, int8: q.model, data: data.prefix(1))
        return result
    }

    static func top1(_ s: [Float], classes c: Int) -> [Int] {
        stride(from: 0, to: s.count, by: c).map { b in
            var best = b
            for i in b..<(b + c) where s[i] > s[best] { best = i }
            return best - b
        }
    }

    static func accuracy(_ top: [Int], _ labels: [Int64]) -> Double {
        Double(zip(top, labels).filter { Int64($0) == $1 }.count) / Double(max(labels.count, 1))
    }

    static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            ab += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        if aa == 0 && bb == 0 { return 1 }
        return aa == 0 || bb == 0 ? 0 : ab / (aa.squareRoot() * bb.squareRoot())
    }
}
