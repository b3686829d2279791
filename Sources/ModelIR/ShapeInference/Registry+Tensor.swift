/// Shape-manipulating ops: reshapes, slicing, gathering, padding, reductions.
extension ShapeInferenceRegistry {
    mutating func registerTensorOps() {
        register("Shape") { ctx in
            guard let s = ctx.shape(0) else { return [TensorType(.int64, Shape([ctx.unknown()]))] }
            let start = ShapeValuePropagation.clampAxis(ctx.node.int("start") ?? 0, s.rank)
            let end = ShapeValuePropagation.clampAxis(ctx.node.int("end") ?? s.rank, s.rank)
            return [TensorType(.int64, [max(end - start, 0)])]
        }
        register("Size") { _ in [TensorType(.int64, [])] }
        register("Constant") { ctx in
            guard let t = ctx.node.tensor("value") else {
                throw ctx.badAttribute(
                    "value", "canonical Constant nodes carry a 'value' tensor (the importer converts value_float/value_ints/…)")
            }
            return [t.tensorType]
        }
        register("ConstantOfShape") { ctx in
            let et = ctx.node.tensor("value")?.elementType ?? .float32
            if let dims = ctx.shapeValue(0) { return [TensorType(et, Shape(dims))] }
            if let s = ctx.shape(0), s.rank == 1, case .fixed(let r) = s[0] { return [TensorType(et, ctx.unknownShape(rank: r))] }
            return [TensorType(et, nil)]
        }
        register("Cast") { ctx in
            guard let name = ctx.node.string("to"), let et = ElementType(rawValue: name) else {
                throw ctx.badAttribute("to", "canonical Cast carries the target ElementType name (e.g. \"float32\")")
            }
            return [TensorType(et, ctx.shape(0))]
        }
        register("Flatten") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, ctx.unknownShape(rank: 2))] }
            let axis = ctx.node.int("axis") ?? 1
            let a = axis < 0 ? axis + s.rank : axis
            guard (0...s.rank).contains(a) else { throw ctx.badAttribute("axis", "\(axis) is out of range for \(s)") }
            return [TensorType(t.elementType, Shape([Self.product(s.dims[..<a], &ctx), Self.product(s.dims[a...], &ctx)]))]
        }
        register("Reshape") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            return [TensorType(t.elementType, try Self.reshape(&ctx))]
        }
        register("Transpose") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            let perm = ctx.node.ints("perm") ?? Array((0..<s.rank).reversed())
            guard perm.sorted() == Array(0..<s.rank) else {
                throw ctx.badAttribute("perm", "\(perm) is not a permutation of 0..<\(s.rank) for input \(s)")
            }
            return [TensorType(t.elementType, Shape(perm.map { s[$0] }))]
        }
        register("Concat") { ctx in try [Self.concat(&ctx, inputs: Array(ctx.node.inputs.indices))] }
        register("Split") { ctx in try Self.split(&ctx) }
        register("Slice") { ctx in try [Self.slice(&ctx)] }
        register("Squeeze") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            if ctx.hasInput(1) {
                guard let axes = ctx.constantInts(1) else { return [TensorType(t.elementType, nil)] }
                let norm = try Set(axes.map { try ctx.axis($0, rank: s.rank, attribute: "axes") })
                for a in norm where s[a].value.map({ $0 != 1 }) ?? false {
                    throw ctx.mismatch("cannot squeeze axis \(a) of size \(s[a]) in \(s)")
                }
                return [TensorType(t.elementType, Shape(s.dims.enumerated().filter { !norm.contains($0.offset) }.map(\.element)))]
            }
            guard s.dims.allSatisfy({ $0.value != nil }) else { return [TensorType(t.elementType, nil)] }
            return [TensorType(t.elementType, Shape(s.dims.filter { $0 != .fixed(1) }))]
        }
        register("Unsqueeze") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape, let axes = ctx.constantInts(1) else { return [TensorType(t.elementType, nil)] }
            let rank = s.rank + axes.count
            let norm = try Set(axes.map { try ctx.axis($0, rank: rank, attribute: "axes") })
            guard norm.count == axes.count else { throw ctx.badAttribute("axes", "\(axes) repeats an axis") }
            var it = s.dims.makeIterator()
            return [TensorType(t.elementType, Shape((0..<rank).map { norm.contains($0) ? .fixed(1) : it.next() ?? .fixed(1) }))]
        }
        register("Gather") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let d = t.shape, let i = ctx.shape(1) else { return [TensorType(t.elementType, nil)] }
            let axis = try ctx.axis(ctx.node.int("axis") ?? 0, rank: d.rank)
            return [TensorType(t.elementType, Shape(Array(d.dims[..<axis]) + i.dims + Array(d.dims[(axis + 1)...])))]
        }
        register("Expand") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let dims = ctx.shapeValue(1) else {
                if let s = ctx.shape(1), s.rank == 1, case .fixed(let r) = s[0], let x = t.shape, x.rank <= r {
                    return [TensorType(t.elementType, ctx.unknownShape(rank: r))]
                }
                return [TensorType(t.elementType, nil)]
            }
            return [TensorType(t.elementType, try Broadcasting.shape([t.shape, Shape(dims)], &ctx))]
        }
        register("Tile") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            guard let reps = ctx.constantInts(1) else { return [TensorType(t.elementType, ctx.unknownShape(rank: s.rank))] }
            guard reps.count == s.rank, reps.allSatisfy({ $0 >= 0 }) else {
                throw ctx.mismatch("repeats \(reps) must hold \(s.rank) non-negative values for input \(s)")
            }
            var dims: [ModelIR.Dimension] = []
            for (d, r) in zip(s.dims, reps) {
                if r == 1 {
                    dims.append(d)
                    continue
                }
                guard let v = d.value else {
                    dims.append(ctx.unknown())
                    continue
                }
                let (p, overflow) = v.multipliedReportingOverflow(by: r)
                guard !overflow else { throw ctx.mismatch("repeats \(reps) overflow input \(s)") }
                dims.append(.fixed(p))
            }
            return [TensorType(t.elementType, Shape(dims))]
        }
        register("Range") { ctx in
            guard let et = ctx.elementType(0) else { return [nil] }
            if let s = ctx.constant(0)?.asDoubles?.first, let l = ctx.constant(1)?.asDoubles?.first,
                let d = ctx.constant(2)?.asDoubles?.first
            {
                guard d != 0 else { throw ctx.mismatch("delta is 0") }
                let count = ((l - s) / d).rounded(.up)
                guard count.isFinite, count < Double(Int32.max) else { throw ctx.mismatch("range (\(s), \(l), \(d)) is too long") }
                let n = max(Int(count), 0)
                return [TensorType(et, [n])]
            }
            return [TensorType(et, Shape([ctx.unknown()]))]
        }
        register("Pad") { ctx in try [Self.pad(&ctx)] }
        register("Resize") { ctx in try [Self.resize(&ctx)] }
        for op in [
            "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "ReduceSumSquare", "ReduceLogSumExp",
            "ReduceLogSum",
        ] {
            register(op) { ctx in try [Self.reduce(&ctx)] }
        }
        for op in ["ArgMax", "ArgMin"] {
            register(op) { ctx in
                guard let s = ctx.shape(0) else { return [TensorType(.int64, nil)] }
                let axis = try ctx.axis(ctx.node.int("axis") ?? 0, rank: s.rank)
                let keep = (ctx.node.int("keepdims") ?? 1) != 0
                var dims = s.dims
                if keep { dims[axis] = .fixed(1) } else { dims.remove(at: axis) }
                return [TensorType(.int64, Shape(dims))]
            }
        }
        register("TopK") { ctx in
            guard let t = ctx.type(0) else { return [nil, nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil), TensorType(.int64, nil)] }
            let axis = try ctx.axis(ctx.node.int("axis") ?? -1, rank: s.rank)
            var dims = s.dims
            if let k = ctx.constantInts(1)?.first {
                if case .fixed(let n) = s[axis], k > n { throw ctx.mismatch("k = \(k) exceeds axis \(axis) size \(n) of \(s)") }
                dims[axis] = .fixed(k)
            } else {
                dims[axis] = ctx.unknown()
            }
            return [TensorType(t.elementType, Shape(dims)), TensorType(.int64, Shape(dims))]
        }
    }
}
