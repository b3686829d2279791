/// Gather/scatter by index tensors, one-hot encoding and the ops whose output size depends on
/// data (NonZero, Compress, Unique): those get inferred-unknown sizes, never errors.
extension ShapeInferenceRegistry {
    mutating func registerIndexing() {
        register("GatherElements") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let d = t.shape, let i = ctx.shape(1) else { return [TensorType(t.elementType, ctx.shape(1))] }
            guard d.rank == i.rank, d.rank >= 1 else { throw ctx.mismatch("data \(d) and indices \(i) must have the same rank ≥ 1") }
            _ = try ctx.axis(ctx.node.int("axis") ?? 0, rank: d.rank)
            return [TensorType(t.elementType, i)]
        }
        register("GatherND") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let d = t.shape, let i = ctx.shape(1) else { return [TensorType(t.elementType, nil)] }
            let b = try ctx.boundedInt("batch_dims", default: 0)
            guard d.rank >= 1, i.rank >= 1, b < min(d.rank, i.rank) else {
                throw ctx.mismatch("data \(d) and indices \(i) need rank ≥ 1 and more than batch_dims = \(b) dimensions")
            }
            guard case .fixed(let k) = i[i.rank - 1] else { return [TensorType(t.elementType, nil)] }
            guard k >= 1, b + k <= d.rank else {
                throw ctx.mismatch("indices \(i) index \(k) axes, but data \(d) has only \(d.rank - b) after batch_dims = \(b)")
            }
            return [TensorType(t.elementType, Shape(Array(i.dims.dropLast()) + Array(d.dims[(b + k)...])))]
        }
        for op in ["ScatterElements", "ScatterND", "TensorScatter"] {
            register(op) { ctx in [ctx.type(0).map { TensorType($0.elementType, $0.shape) }] }
        }
        register("OneHot") { ctx in
            guard let values = ctx.elementType(2) else { return [nil] }
            guard let s = ctx.shape(0) else { return [TensorType(values, nil)] }
            let axis = try ctx.axis(ctx.node.int("axis") ?? -1, rank: s.rank + 1)
            var depth: Dimension = ctx.unknown()
            if let d = ctx.constant(1)?.asDoubles, d.count == 1, let v = d.first {
                guard v.isFinite, v >= 1, v <= Double(InferenceContext.maxDimension) else {
                    throw ctx.mismatch("depth \(v) must be a positive size")
                }
                depth = .fixed(Int(v))
            }
            var dims = s.dims
            dims.insert(depth, at: axis)
            return [TensorType(values, Shape(dims))]
        }
        register("NonZero") { ctx in
            guard let s = ctx.shape(0) else { return [TensorType(.int64, Shape([ctx.unknown(), ctx.unknown()]))] }
            return [TensorType(.int64, Shape([.fixed(s.rank), ctx.unknown()]))]
        }
        register("Compress") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            let kept: Dimension = ctx.constant(1)?.bools.map { .fixed($0.filter { $0 }.count) } ?? ctx.unknown()
            guard let axisValue = ctx.node.int("axis") else { return [TensorType(t.elementType, Shape([kept]))] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            let axis = try ctx.axis(axisValue, rank: s.rank)
            var dims = s.dims
            dims[axis] = kept
            return [TensorType(t.elementType, Shape(dims))]
        }
        register("Unique") { ctx in
            guard let t = ctx.type(0) else { return [nil, nil, nil, nil] }
            let count = ctx.unknown()
            var y: Shape? = Shape([count])
            var inverse: Shape? = nil
            if let s = t.shape {
                if let axisValue = ctx.node.int("axis") {
                    let axis = try ctx.axis(axisValue, rank: s.rank)
                    var dims = s.dims
                    dims[axis] = count
                    y = Shape(dims)
                    inverse = Shape([s[axis]])
                } else {
                    inverse = Shape([ShapeInferenceRegistry.product(s.dims[...], &ctx)])
                }
            } else if ctx.node.int("axis") != nil {
                y = nil
            }
            return [TensorType(t.elementType, y), TensorType(.int64, [count]), TensorType(.int64, inverse), TensorType(.int64, [count])]
        }
    }
}
