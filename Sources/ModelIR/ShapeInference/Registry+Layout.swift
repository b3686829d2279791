/// Ops that move elements between axes or build matrices: DepthToSpace/SpaceToDepth, EyeLike,
/// CenterCropPad, Col2Im, Einsum, Det.
extension ShapeInferenceRegistry {
    mutating func registerLayout() {
        register("DepthToSpace") { ctx in try [Self.blockRearrange(&ctx, toSpace: true)] }
        register("SpaceToDepth") { ctx in try [Self.blockRearrange(&ctx, toSpace: false)] }
        register("EyeLike") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            var et = t.elementType
            if let name = ctx.node.string("dtype") {
                guard let e = ElementType(rawValue: name) else {
                    throw ctx.badAttribute("dtype", "canonical EyeLike carries an ElementType name")
                }
                et = e
            }
            if let s = t.shape, s.rank != 2 { throw ctx.mismatch("input \(s) must be 2-D") }
            return [TensorType(et, t.shape)]
        }
        register("CenterCropPad") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            let axes = try (ctx.node.ints("axes") ?? Array(0..<s.rank)).map { try ctx.axis($0, rank: s.rank, attribute: "axes") }
            guard let sizes = ctx.constantInts(1) else {
                var dims = s.dims
                for a in axes { dims[a] = ctx.unknown() }
                return [TensorType(t.elementType, Shape(dims))]
            }
            guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 }) else {
                throw ctx.mismatch("shape \(sizes) must hold \(axes.count) non-negative sizes for axes \(axes) of \(s)")
            }
            var dims = s.dims
            for (k, a) in axes.enumerated() { dims[a] = .fixed(sizes[k]) }
            return [TensorType(t.elementType, Shape(dims))]
        }
        register("Col2Im") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let image = ctx.constantInts(1) else { return [TensorType(t.elementType, nil)] }
            var channels: Dimension = ctx.unknown()
            if let s = t.shape {
                guard s.rank == 3 else { throw ctx.mismatch("input \(s) must be [N, C × block, L]") }
                if let block = ctx.constantInts(2), let b = Shape.checkedProduct(block), b > 0, case .fixed(let cb) = s[1] {
                    guard cb % b == 0 else { throw ctx.mismatch("input \(s) axis 1 is not a multiple of the block size \(block)") }
                    channels = .fixed(cb / b)
                }
                return [TensorType(t.elementType, Shape([s[0], channels] + image.map(Dimension.fixed)))]
            }
            return [TensorType(t.elementType, Shape([ctx.unknown(), channels] + image.map(Dimension.fixed)))]
        }
        register("Det") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            guard s.rank >= 2 else { throw ctx.mismatch("input \(s) must have rank ≥ 2 (..., M, M)") }
            if case .fixed(let a) = s[s.rank - 1], case .fixed(let b) = s[s.rank - 2], a != b {
                throw ctx.mismatch("input \(s) is not a batch of square matrices")
            }
            return [TensorType(t.elementType, Shape(Array(s.dims.dropLast(2))))]
        }
        register("Einsum") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            return [TensorType(t.elementType, try Einsum.outputShape(&ctx))]
        }
    }

    /// DepthToSpace: [N, C, H, W] → [N, C / b², H·b, W·b]; SpaceToDepth the reverse.
    static func blockRearrange(_ ctx: inout InferenceContext, toSpace: Bool) throws -> TensorType? {
        guard let t = ctx.type(0) else { return nil }
        guard let s = t.shape else { return TensorType(t.elementType, nil) }
        guard s.rank == 4 else { throw ctx.mismatch("input \(s) must be NCHW") }
        let b = try ctx.boundedInt("blocksize", default: 0, limit: 1 << 10)
        guard b >= 1 else { throw ctx.badAttribute("blocksize", "is required and must be ≥ 1") }
        let mode = ctx.node.string("mode") ?? "DCR"
        guard mode == "DCR" || mode == "CRD" else { throw ctx.badAttribute("mode", "'\(mode)' is not DCR or CRD") }
        func scaled(_ d: Dimension, multiply: Bool, by f: Int) throws -> Dimension {
            guard case .fixed(let n) = d else { return f == 1 ? d : ctx.unknown() }
            if multiply { return .fixed(n * f) }
            guard n % f == 0 else { throw ctx.mismatch("dimension \(n) of \(s) is not divisible by \(f) (blocksize \(b))") }
            return .fixed(n / f)
        }
        if toSpace {
            return TensorType(
                t.elementType,
                Shape([
                    s[0], try scaled(s[1], multiply: false, by: b * b), try scaled(s[2], multiply: true, by: b),
                    try scaled(s[3], multiply: true, by: b),
                ]))
        }
        return TensorType(
            t.elementType,
            Shape([
                s[0], try scaled(s[1], multiply: true, by: b * b), try scaled(s[2], multiply: false, by: b),
                try scaled(s[3], multiply: false, by: b),
            ]))
    }
}
