public import ModelIR

/// Empirical bias correction (Nagel et al. 2019, §4.2) for the error weight quantization
/// adds to each Conv's output. For a layer y = W ⊛ x + b and its quantized weights
/// W̃ = dequantize(quantize(W)) under the class's granularity and bit width, the expected
/// output error of channel o is
///
///     E[y_o] − E[ỹ_o] = Σ_{c,ky,kx} (W − W̃)[o, c, ky, kx] · E[patch(x)[c, ky, kx]]
///
/// exactly (the layer is linear), where E[patch] is the mean over calibration samples and
/// output positions of the input pixel each tap reads (0 where the tap falls in padding).
/// The means are measured by running the fp32 model over the calibration data (inputs of
/// every Conv captured in one pass, streamed), and b is shifted by the error so the
/// quantized layer's mean output matches fp32. Activation quantization error is not part of
/// this (it needs the int8 runtime); every layer is corrected against fp32 inputs.
public struct BiasCorrection: Sendable {
    public struct Report: Sendable {
        /// Node name → the largest |correction| applied to its bias.
        public var corrected: [String: Float] = [:]
        public var skipped: [(String, String)] = []
        public var samples = 0
    }

    public var granularity: HardwareClass.WeightGranularity
    public var weightBits: Int

    public init(granularity: HardwareClass.WeightGranularity, weightBits: Int) {
        self.granularity = granularity
        self.weightBits = weightBits
    }

    public init(for hardwareClass: HardwareClass) {
        self.init(granularity: hardwareClass.weightGranularity, weightBits: hardwareClass.weightBits)
    }

    public func run(on graph: inout Graph, data: some Sequence<Result<[String: Tensor], QuantizerError>>) throws -> Report {
        var report = Report()
        var layers: [ConvLayer] = []
        var geometry: [String: ConvGeometry] = [:]
        for i in graph.nodes.indices {
            let (l, why) = ConvLayer.read(graph, at: i)
            if let why { report.skipped.append((graph.nodes[i].name, why)) }
            guard let l else { continue }
            guard let g = ConvGeometry(l.node, kernel: Array(l.shape[2...])) else {
                report.skipped.append((l.node.name, "unsupported padding/stride attributes"))
                continue
            }
            layers.append(l)
            geometry[l.node.name] = g
        }
        guard !layers.isEmpty else { return report }
        let inputs = Array(Set(layers.compactMap { $0.node.input(0) })).sorted()
        var capture = try ActivationCapture(graph: graph, values: inputs)
        var sums: [String: [Double]] = [:]
        var counts: [String: Int] = [:]
        for item in data {
            let captured = try capture.run(try item.get())
            for l in layers {
                guard let x = l.node.input(0).flatMap({ captured[$0] }), let g = geometry[l.node.name] else { continue }
                guard x.rank == l.shape.count || (x.rank == 3 && l.shape.count == 4), let floats = x.floats, x.shape[1] == l.inChannels
                else {
                    throw QuantizerError.graph(node: l.node.name, detail: "input \(x.shape) does not match weights \(l.shape)")
                }
                let spatial = x.rank == 4 ? Array(x.shape[2...]) : [x.shape[2], 1]
                var s = sums[l.node.name] ?? [Double](repeating: 0, count: l.inChannels * l.kernelSize)
                let positions = g.accumulatePatchSums(floats, batch: x.shape[0], channels: l.inChannels, spatial: spatial, into: &s)
                sums[l.node.name] = s
                counts[l.node.name, default: 0] += positions
            }
            report.samples += captured.values.first?.shape.first ?? 0
        }
        var names = NameSet(graph)
        for l in layers {
            guard let s = sums[l.node.name], let n = counts[l.node.name], n > 0 else { continue }
            let w = try Tensor(floats: l.weights, shape: l.shape)
            let q = try WeightQuantization.quantize(w, name: l.weightName, granularity: granularity, axis: 0, bits: weightBits)
                .dequantized()
            var bias = l.bias ?? [Float](repeating: 0, count: l.outChannels)
            var largest: Float = 0
            let k = l.inChannelsPerGroup * l.kernelSize
            for o in 0..<l.outChannels {
                let firstChannel = (o / l.outPerGroup) * l.inChannelsPerGroup
                var e = 0.0
                for j in 0..<k {
                    let mean = s[firstChannel * l.kernelSize + j] / Double(n)
                    e += Double(l.weights[o * k + j] - q[o * k + j]) * mean
                }
                bias[o] = Float(Double(bias[o]) + e)
                largest = Swift.max(largest, Swift.abs(Float(e)))
            }
            let biasName: String
            if let b = l.node.input(2) {
                biasName = b
            } else {
                biasName = names.fresh("\(l.node.name)_bias_corrected")
                var inputs = graph.nodes[l.nodeIndex].inputs
                while inputs.count < 3 { inputs.append("") }
                inputs[2] = biasName
                graph.nodes[l.nodeIndex].inputs = inputs
            }
            graph.initializers[biasName] = try Tensor(floats: bias, shape: [bias.count])
            report.corrected[l.node.name] = largest
        }
        return report
    }
}
