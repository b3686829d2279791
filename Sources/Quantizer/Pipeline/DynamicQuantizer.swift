public import ModelIR

/// Dynamic quantization of MatMul/Gemm models, no calibration data needed: int8 weights
/// (per channel or per tensor, the class's bit width) and activations quantized at run time,
/// in ONNX Runtime's `quantize_dynamic` form:
///
///     DynamicQuantizeLinear(x) → (x_q u8, s_x, z_x)
///     MatMulInteger(x_q, W_q, z_x, 0) → int32 → Cast float → Mul(s_x · s_w [· alpha]) [→ Add(beta · C)]
///
/// DynamicQuantizeLinear is uint8 by definition (ONNX), so on s8 classes the kernels flip the
/// sign bit (exact, docs/int8-numerics.md). Gemm weights with transB = 1 are stored transposed
/// ([K, N]) so MatMulInteger reads them directly.
public struct DynamicQuantizer: Sendable {
    public var profile: HardwareClass
    public var keepFP32: Set<String>

    public init(profile: HardwareClass, keepFP32: Set<String> = []) {
        self.profile = profile
        self.keepFP32 = keepFP32
    }

    public func quantize(_ model: Model) throws -> QuantizedModel {
        var g = model.graph
        var names = NameSet(g)
        var nodes: [Node] = []
        var int8: [String] = [], fp32: [QuantizedModel.FP32Layer] = []
        for n in g.nodes {
            guard n.domain.isEmpty, n.opType == "MatMul" || n.opType == "Gemm", !keepFP32.contains(n.name),
                let x = n.input(0), let wName = n.input(1), let w = g.constant(wName), w.elementType == .float32, w.rank == 2,
                (n.int("transA") ?? 0) == 0, let y = n.outputs.first
            else {
                if n.opType == "MatMul" || n.opType == "Gemm" {
                    fp32.append(
                        .init(
                            node: n.name, opType: n.opType,
                            reason: keepFP32.contains(n.name)
                                ? "kept in fp32" : "needs constant 2-D float weights (and transA = 0)"))
                }
                nodes.append(n)
                continue
            }
            let kn = (n.opType == "Gemm" && (n.int("transB") ?? 0) == 1) ? try transposed(w) : w
            let qw = try WeightQuantization.quantize(
                kn, name: wName, granularity: profile.weightGranularity, axis: 1, bits: profile.weightBits)
            let f = { (s: String) in names.fresh("\(n.name)_\(s)") }
            let wq = f("weight_quantized"), wz = f("weight_zero_point"), ws = f("weight_scale")
            g.initializers[wq] = try qw.tensor().tensor
            g.initializers[wz] = try Tensor(
                int8s: [Int8](repeating: 0, count: qw.scales.count), shape: qw.axis == nil ? [] : [qw.scales.count])
            let alpha = n.opType == "Gemm" ? (n.float("alpha") ?? 1) : 1
            g.initializers[ws] = try Tensor(floats: qw.scales.map { $0 * alpha }, shape: qw.axis == nil ? [] : [qw.scales.count])
            let xq = f("input_quantized"), xs = f("input_scale"), xz = f("input_zero_point")
            let acc = f("accumulator"), accf = f("accumulator_float"), scale = f("output_scale")
            let hasBias = n.opType == "Gemm" && n.input(2) != nil
            let scaled = hasBias ? f("product") : y
            nodes += [
                Node(name: f("DynamicQuantizeLinear"), opType: "DynamicQuantizeLinear", inputs: [x], outputs: [xq, xs, xz]),
                Node(name: f("MatMulInteger"), opType: "MatMulInteger", inputs: [xq, wq, xz, wz], outputs: [acc]),
                Node(
                    name: f("Cast"), opType: "Cast", inputs: [acc], outputs: [accf],
                    attributes: ["to": .string(ElementType.float32.rawValue)]),
                Node(name: f("ScaleProduct"), opType: "Mul", inputs: [xs, ws], outputs: [scale]),
                Node(
                    name: f("Rescale"), opType: "Mul", inputs: [accf, scale], outputs: [scaled],
                    fusedActivation: hasBias ? nil : n.fusedActivation),
            ]
            if hasBias, let c = n.input(2) {
                var bias = c
                if let beta = n.float("beta"), beta != 1, let ct = g.constant(c), let cf = ct.floats {
                    bias = f("bias")
                    g.initializers[bias] = try Tensor(floats: cf.map { $0 * beta }, shape: ct.shape)
                }
                nodes.append(
                    Node(name: f("Bias"), opType: "Add", inputs: [scaled, bias], outputs: [y], fusedActivation: n.fusedActivation))
            }
            int8.append(n.name)
        }
        g.nodes = nodes
        let read = Set(nodes.flatMap(\.inputs)).union(g.outputs.map(\.name))
        g.initializers = g.initializers.filter { read.contains($0.key) }
        g.valueTypes = [:]
        do {
            try ShapeInference().run(on: &g)
            try g.validate()
        } catch {
            throw QuantizerError.graph(node: g.name, detail: "the dynamically quantized graph is invalid: \(error)")
        }
        var out = model
        out.graph = g
        return QuantizedModel(
            model: out, hardwareClass: profile.name, calibrator: .minmax, recipesApplied: ["dynamic activations"],
            activationParameters: [:], quantizedValues: [:], int8Nodes: int8, fp32Layers: fp32, warnings: [])
    }

    func transposed(_ w: Tensor) throws -> Tensor {
        guard let f = w.floats else { return w }
        let r = w.shape[0], c = w.shape[1]
        var t = [Float](repeating: 0, count: f.count)
        for i in 0..<r { for j in 0..<c { t[j * r + i] = f[i * c + j] } }
        return try Tensor(floats: t, shape: [c, r])
    }
}
