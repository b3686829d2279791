/// Quantized ops of ai.onnx and com.microsoft. Where scale and zero point are constants, the
/// quantization parameters are attached to the quantized value's type.
extension ShapeInferenceRegistry {
    static let microsoft = "com.microsoft"

    mutating func registerQuantized() {
        register("QuantizeLinear") { ctx in
            guard let x = ctx.type(0) else { return [nil] }
            let et: ElementType
            if let zp = ctx.elementType(2) {
                et = zp
            } else if let name = ctx.node.string("output_dtype"), let t = ElementType(rawValue: name) {
                et = t
            } else {
                et = .uint8
            }
            let q = try Self.quantParameters(&ctx, scale: 1, zeroPoint: 2, axis: ctx.node.int("axis") ?? 1, rank: x.rank)
            return [TensorType(et, x.shape, quantization: q)]
        }
        register("DequantizeLinear") { ctx in
            guard let x = ctx.type(0) else { return [TensorType(.float32, nil)] }
            if x.quantization == nil, let name = ctx.node.input(0),
                let q = try Self.quantParameters(&ctx, scale: 1, zeroPoint: 2, axis: ctx.node.int("axis") ?? 1, rank: x.rank)
            {
                var annotated = x
                annotated.quantization = q
                ctx.annotate(name, annotated)
            }
            return [TensorType(ctx.elementType(1) ?? .float32, x.shape)]
        }
        register("DynamicQuantizeLinear") { ctx in
            [TensorType(.uint8, ctx.shape(0)), TensorType(.float32, []), TensorType(.uint8, [])]
        }
        register("QLinearConv") { ctx in
            var t = try Self.conv(&ctx, weightIndex: 3, elementType: ctx.elementType(7) ?? ctx.elementType(0))
            let q = try Self.quantParameters(&ctx, scale: 6, zeroPoint: 7, axis: nil, rank: nil)
            t?.quantization = q
            return [t]
        }
        register("QLinearMatMul") { ctx in
            let et = ctx.elementType(7) ?? ctx.elementType(0) ?? .uint8
            let q = try Self.quantParameters(&ctx, scale: 6, zeroPoint: 7, axis: nil, rank: nil)
            return [TensorType(et, try Self.matmul(&ctx, 0, 3), quantization: q)]
        }
        for op in ["QLinearAdd", "QLinearMul"] {
            register(op, domain: Self.microsoft) { ctx in
                let et = ctx.elementType(7) ?? ctx.elementType(0) ?? .uint8
                let q = try Self.quantParameters(&ctx, scale: 6, zeroPoint: 7, axis: nil, rank: nil)
                return [TensorType(et, try Broadcasting.shape([ctx.shape(0), ctx.shape(3)], &ctx), quantization: q)]
            }
        }
        for op in ["QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"] {
            register(op, domain: Self.microsoft) { ctx in
                let et = ctx.elementType(4) ?? ctx.elementType(0) ?? .uint8
                let q = try Self.quantParameters(&ctx, scale: 3, zeroPoint: 4, axis: nil, rank: nil)
                return [TensorType(et, ctx.shape(0), quantization: q)]
            }
        }
        register("QLinearConcat", domain: Self.microsoft) { ctx in
            let data = Array(stride(from: 2, to: ctx.node.inputs.count, by: 3))
            var t = try Self.concat(&ctx, inputs: data)
            let q = try Self.quantParameters(&ctx, scale: 0, zeroPoint: 1, axis: nil, rank: nil)
            t?.quantization = q
            if let zp = ctx.elementType(1) { t?.elementType = zp }
            return [t]
        }
        register("QLinearGlobalAveragePool", domain: Self.microsoft) { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            let q = try Self.quantParameters(&ctx, scale: 3, zeroPoint: 4, axis: nil, rank: nil)
            guard let s = t.shape, s.rank >= 3 else { return [TensorType(t.elementType, t.shape, quantization: q)] }
            let channelsLast = (ctx.node.int("channels_last") ?? 0) != 0
            var dims = s.dims.map { _ in Dimension.fixed(1) }
            dims[0] = s[0]
            dims[channelsLast ? s.rank - 1 : 1] = s[channelsLast ? s.rank - 1 : 1]
            return [TensorType(t.elementType, Shape(dims), quantization: q)]
        }
        register("QLinearAveragePool", domain: Self.microsoft) { ctx in
            let channelsLast = (ctx.node.int("channels_last") ?? 0) != 0
            var t = try Self.pool(&ctx, inputIndex: 0, channelsLast: channelsLast)
            let q = try Self.quantParameters(&ctx, scale: 3, zeroPoint: 4, axis: nil, rank: nil)
            t?.quantization = q
            return [t]
        }
        register("QGemm", domain: Self.microsoft) { ctx in
            // A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale, y_zero_point.
            let shape = try Self.gemm(&ctx, a: 0, b: 3, c: 6)
            guard ctx.hasInput(7) else { return [TensorType(.float32, shape)] }
            let q = try Self.quantParameters(&ctx, scale: 7, zeroPoint: 8, axis: nil, rank: nil)
            return [TensorType(ctx.elementType(8) ?? ctx.elementType(0) ?? .uint8, shape, quantization: q)]
        }
        register("DynamicQuantizeMatMul", domain: Self.microsoft) { ctx in
            [TensorType(.float32, try Self.matmul(&ctx, 0, 1))]
        }
        register("MatMulIntegerToFloat", domain: Self.microsoft) { ctx in
            [TensorType(ctx.elementType(2) ?? .float32, try Self.matmul(&ctx, 0, 1))]
        }
    }

    /// Quantization parameters from constant scale/zero-point inputs; nil when they are not
    /// constants (dynamic quantization) or are blocked (rank ≥ 2 scales). A zero point that is
    /// absent means 0.
    static func quantParameters(
        _ ctx: inout InferenceContext, scale: Int, zeroPoint: Int, axis: Int?, rank: Int?
    ) throws -> QuantParameters? {
        guard let s = ctx.constant(scale), let scales = s.asDoubles, s.rank <= 1 else { return nil }
        var zps: [Int32] = Array(repeating: 0, count: scales.count)
        if ctx.hasInput(zeroPoint) {
            guard let z = ctx.constant(zeroPoint)?.asInt64s else { return nil }
            guard z.count == scales.count else {
                throw ctx.mismatch("\(scales.count) scales but \(z.count) zero points")
            }
            zps = z.map { Int32(clamping: $0) }
        }
        var normalizedAxis: Int?
        if scales.count > 1 {
            // Per-axis needs a 1-D scale and a known rank to place the axis; blocked
            // quantization (rank ≥ 2 scales) is not represented as type parameters.
            guard let axis, let rank else { return nil }
            normalizedAxis = try ctx.axis(axis, rank: rank)
        }
        do {
            return try QuantParameters(scales: scales.map(Float.init), zeroPoints: zps, axis: normalizedAxis)
        } catch let e as ModelIRError {
            throw ctx.mismatch("\(e)")
        }
    }
}
