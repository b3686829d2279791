public import ModelIR

/// Models that arrive already quantized (QAT, or ONNX Runtime's quantize_static in QDQ form)
/// keep their scales: nothing is requantized. They are checked against the class instead
/// (docs/quantization.md "Already-quantized models"):
///
/// - weights (constant int8 behind DequantizeLinear) must be symmetric (zero point 0), within
///   the class's ±qmax, and per tensor on a per-tensor class. A per-channel model for a
///   per-tensor class is **refused**, not converted: converting re-rounds every weight to the
///   widest channel's scale and changes every bias scale, i.e. it is a new quantization with
///   none of the care (calibration, tuning) of one made from the fp32 model — quantize that.
/// - uint8 weights are refused (the int8 contract multiplies by s8 weights).
/// - activations of the other signedness than the class's are accepted with a warning: the
///   kernels flip the sign bit exactly (docs/int8-numerics.md), at a small cost per call.
public enum QDQInputModel {
    public static func isQuantized(_ graph: Graph) -> Bool {
        graph.nodes.contains { $0.domain.isEmpty && ($0.opType == "DequantizeLinear" || $0.opType == "QuantizeLinear") }
    }

    /// Validates `model` for `profile` and wraps it unchanged.
    public static func accept(_ model: Model, for profile: HardwareClass) throws -> QuantizedModel {
        let g = model.graph
        var warnings: [String] = []
        var parameters: [String: AffineParameters] = [:]
        var quantized: [String: String] = [:]
        var signednessWarned = false
        let index = ValueIndex(g)
        for n in g.nodes where n.domain.isEmpty {
            if n.opType == "DequantizeLinear", let x = n.input(0), let t = g.constant(x), t.elementType != .int32 {
                try checkWeight(n, t, graph: g, profile: profile)
            } else if n.opType == "QuantizeLinear", let x = n.input(0), let q = n.outputs.first {
                guard let p = try activationParameters(n, graph: g) else {
                    warnings.append("\(n.name): per-axis or non-constant activation parameters; not measured")
                    continue
                }
                if (p.elementType == .int8) != profile.activationType.isSigned && !signednessWarned {
                    signednessWarned = true
                    warnings.append(
                        "activations are \(p.elementType) but class \(profile.name) uses \(profile.activationType.rawValue); "
                            + "the kernels flip the sign bit on every call (exact, slightly slower): requantize from fp32 to avoid it")
                }
                // Measured against the fp32 equivalent's value for the DQ output (the clamped
                // one: the Q may be standing in for a Relu), else against the Q input.
                let dq = (index.consumers[q] ?? []).map { g.nodes[$0] }.first { $0.opType == "DequantizeLinear" }
                let key = dq?.outputs.first ?? x
                parameters[key] = p
                quantized[key] = q
            }
        }
        var fused = g
        QDQFusion().fuse(&fused)
        let fp32Ops: Set<String> = ["Conv", "Gemm", "MatMul", "Add", "Mul", "AveragePool", "GlobalAveragePool"]
        let fp32Layers = fused.nodes.filter { $0.domain.isEmpty && fp32Ops.contains($0.opType) }.map {
            QuantizedModel.FP32Layer(
                node: $0.name, opType: $0.opType, reason: "not quantized in the input model (no QDQ pattern around it)")
        }
        let int8Nodes = fused.nodes.filter { $0.opType.hasPrefix("QLinear") || $0.opType == "QGemm" }.map(\.name)
        return QuantizedModel(
            model: model, hardwareClass: profile.name, calibrator: .minmax, recipesApplied: ["input model's own scales"],
            activationParameters: parameters, quantizedValues: quantized, int8Nodes: int8Nodes, fp32Layers: fp32Layers,
            warnings: warnings)
    }

    static func checkWeight(_ n: Node, _ t: Tensor, graph g: Graph, profile: HardwareClass) throws {
        guard t.elementType == .int8 else {
            throw QuantizerError.graph(
                node: n.name,
                detail: "weights '\(n.inputs[0])' are \(t.elementType); the int8 contract needs symmetric int8 weights: "
                    + "requantize with int8 weights (ONNX Runtime: weight_type=QInt8) or from the fp32 model")
        }
        let scales = n.input(1).flatMap { g.constant($0) }?.elementCount ?? 1
        if scales > 1 && profile.weightGranularity == .perTensor {
            throw QuantizerError.graph(
                node: n.name,
                detail: "weights '\(n.inputs[0])' are per channel (\(scales) scales) but class \(profile.name) runs "
                    + "per-tensor weights only; quantize the fp32 model for this class instead (converting would re-round every weight)")
        }
        if let z = n.input(2).flatMap({ g.constant($0) })?.asInt64s, z.contains(where: { $0 != 0 }) {
            throw QuantizerError.graph(
                node: n.name, detail: "weights '\(n.inputs[0])' have a non-zero zero point; the int8 contract needs symmetric weights")
        }
        let qmax = Int8(profile.weightQMax)
        if let bad = t.int8s?.first(where: { $0 < -qmax || $0 > qmax }) {
            throw QuantizerError.graph(
                node: n.name,
                detail: "weight value \(bad) in '\(n.inputs[0])' is outside ±\(qmax) for class \(profile.name) "
                    + "(\(profile.weightBits)-bit weights); requantize with a restricted range or from the fp32 model")
        }
    }

    static func activationParameters(_ n: Node, graph g: Graph) throws -> AffineParameters? {
        guard let s = n.input(1).flatMap({ g.constant($0) })?.floats, s.count == 1 else { return nil }
        let zt = n.input(2).flatMap { g.constant($0) }
        let type = zt?.elementType ?? .uint8
        let z = zt?.asInt64s?.first ?? 0
        guard type == .uint8 || type == .int8 else { return nil }
        return AffineParameters(
            scale: s[0], zeroPoint: Int32(z), qmin: type == .uint8 ? 0 : -128, qmax: type == .uint8 ? 255 : 127, elementType: type)
    }
}
