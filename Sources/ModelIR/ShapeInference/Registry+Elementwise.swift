/// Elementwise, broadcasting and normalization ops: output shape equals (or broadcasts) the
/// inputs'.
extension ShapeInferenceRegistry {
    static let unaryOps = [
        "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid",
        "HardSwish", "Tanh", "Erf", "Floor", "Ceil", "Round", "Identity", "Softmax", "LogSoftmax", "Clip",
        "Elu", "Selu", "Softplus", "Softsign", "Gelu", "Sin", "Cos", "Sign", "Not", "CumSum", "Mish",
        "InstanceNormalization", "Hardmax", "Celu", "ThresholdedRelu", "Shrink", "Swish", "Tan", "Asin", "Acos",
        "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "BitwiseNot", "CumProd", "LRN", "LpNormalization",
        "MeanVarianceNormalization", "RMSNormalization", "RotaryEmbedding", "Trilu", "ReverseSequence",
    ]
    static let broadcastOps = [
        "Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Min", "Max", "Sum", "Mean", "Mod", "BitShift", "BitwiseAnd",
        "BitwiseOr", "BitwiseXor",
    ]
    static let comparisonOps = ["Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor"]

    mutating func registerElementwise() {
        for op in Self.unaryOps {
            register(op) { ctx in [ctx.type(0).map { TensorType($0.elementType, $0.shape) }] }
        }
        for op in Self.broadcastOps {
            register(op) { ctx in
                guard let t = ctx.type(0) else { return [nil] }
                let shapes = ctx.node.inputs.indices.map { ctx.shape($0) }
                return [TensorType(t.elementType, try Broadcasting.shape(shapes, &ctx))]
            }
        }
        for op in Self.comparisonOps {
            register(op) { ctx in
                [TensorType(.bool, try Broadcasting.shape([ctx.shape(0), ctx.shape(1)], &ctx))]
            }
        }
        for op in ["IsNaN", "IsInf"] {
            register(op) { ctx in [TensorType(.bool, ctx.shape(0))] }
        }
        register("CastLike") { ctx in
            guard let target = ctx.elementType(1) else { return [nil] }
            return [TensorType(target, ctx.shape(0))]
        }
        register("Where") { ctx in
            guard let t = ctx.type(1) ?? ctx.type(2) else { return [nil] }
            return [TensorType(t.elementType, try Broadcasting.shape([ctx.shape(0), ctx.shape(1), ctx.shape(2)], &ctx))]
        }
        register("Dropout") { ctx in
            guard let t = ctx.type(0) else { return [nil, nil] }
            return [TensorType(t.elementType, t.shape), TensorType(.bool, t.shape)]
        }
        register("BatchNormalization") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            if let s = t.shape, s.rank >= 2, let c = ctx.shape(1), c.rank == 1,
                case .fixed(let a) = s[1], case .fixed(let b) = c[0], a != b
            {
                throw ctx.mismatch("input \(s) has \(a) channels but scale \(c) has \(b) elements")
            }
            let channel = t.shape.flatMap { $0.rank >= 2 ? Shape([$0[1]]) : nil }
            return [TensorType(t.elementType, t.shape), TensorType(t.elementType, channel), TensorType(t.elementType, channel)]
        }
        register("GroupNormalization") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            let groups = try ctx.boundedInt("num_groups", default: 0)
            guard groups > 0 else { throw ctx.badAttribute("num_groups", "GroupNormalization needs a positive num_groups") }
            if let s = t.shape {
                guard s.rank >= 2 else { throw ctx.mismatch("input \(s) needs rank ≥ 2 (N, C, ...)") }
                if case .fixed(let c) = s[1] {
                    guard c % groups == 0 else { throw ctx.mismatch("\(c) channels of \(s) are not divisible into \(groups) groups") }
                    for i in [1, 2] {
                        if let p = ctx.shape(i), p.rank == 1, case .fixed(let n) = p[0], n != c {
                            throw ctx.mismatch("\(i == 1 ? "scale" : "bias") \(p) must hold one value per channel (\(c)) of \(s)")
                        }
                    }
                }
            }
            return [TensorType(t.elementType, t.shape)]
        }
        register("LayerNormalization") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            let axis = try ctx.axis(ctx.node.int("axis") ?? -1, rank: s.rank)
            let stats = Shape(s.dims.enumerated().map { $0.offset < axis ? $0.element : .fixed(1) })
            return [TensorType(t.elementType, s), TensorType(.float32, stats), TensorType(.float32, stats)]
        }
    }
}
