/// Shape functions of the data-movement ops (Reshape, Concat, Split, Slice, Pad, Resize,
/// reductions), kept apart from their registrations.
extension ShapeInferenceRegistry {
    /// Product of dimensions: fixed if all are fixed, the symbol itself for a lone symbol times
    /// ones, otherwise unknown.
    static func product(_ dims: ArraySlice<Dimension>, _ ctx: inout InferenceContext) -> Dimension {
        if let c = Shape(Array(dims)).concrete, let p = Shape.checkedProduct(c) { return .fixed(p) }
        let nonOne = dims.filter { $0 != .fixed(1) }
        return nonOne.count == 1 ? nonOne[0] : ctx.unknown()
    }

    static func reshape(_ ctx: inout InferenceContext) throws -> Shape? {
        guard let target = ctx.shapeValue(1) else {
            if let s = ctx.shape(1), s.rank == 1, case .fixed(let r) = s[0] { return ctx.unknownShape(rank: r) }
            return nil
        }
        let allowZero = (ctx.node.int("allowzero") ?? 0) != 0
        let input = ctx.shape(0)
        var dims: [Dimension] = []
        var inferIndex: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case .fixed(-1):
                guard inferIndex == nil else { throw ctx.mismatch("shape \(target) has more than one -1") }
                inferIndex = i
                dims.append(.fixed(-1))
            case .fixed(0) where !allowZero:
                guard let input else {
                    dims.append(ctx.unknown())
                    continue
                }
                guard i < input.rank else {
                    throw ctx.mismatch("shape \(target) copies dimension \(i) with 0, but the input \(input) has rank \(input.rank)")
                }
                dims.append(input[i])
            case .fixed(let v) where v < -1:
                throw ctx.mismatch("shape \(target) has the invalid size \(v)")
            default:
                dims.append(d)
            }
        }
        guard let inferIndex else {
            if let input, let a = input.elementCount, let b = Shape(dims).elementCount, a != b {
                throw ctx.mismatch("cannot reshape \(input) (\(a) elements) to \(Shape(dims)) (\(b) elements)")
            }
            return Shape(dims)
        }
        guard let input else {
            dims[inferIndex] = ctx.unknown()
            return Shape(dims)
        }
        // Cancel symbols present on both sides, then divide the fixed products.
        var inputSymbols = input.dims.compactMap(\.symbol)
        var inputFixed = 1
        var overflow = false
        for d in input.dims {
            if let v = d.value {
                let (p, o) = inputFixed.multipliedReportingOverflow(by: v)
                inputFixed = p
                overflow = overflow || o
            }
        }
        var outputFixed = 1
        var unresolved = false
        for (i, d) in dims.enumerated() where i != inferIndex {
            if let v = d.value {
                let (p, o) = outputFixed.multipliedReportingOverflow(by: v)
                outputFixed = p
                overflow = overflow || o
            } else if let s = d.symbol, let j = inputSymbols.firstIndex(of: s) {
                inputSymbols.remove(at: j)
            } else {
                unresolved = true
            }
        }
        if overflow { throw ctx.mismatch("cannot reshape \(input) to \(Shape(target)): the sizes overflow") }
        if unresolved || !inputSymbols.isEmpty || outputFixed == 0 {
            dims[inferIndex] =
                (!unresolved && inputSymbols.count == 1 && outputFixed == inputFixed) ? .symbolic(inputSymbols[0]) : ctx.unknown()
            return Shape(dims)
        }
        guard inputFixed % outputFixed == 0 else {
            throw ctx.mismatch("cannot reshape \(input) to \(Shape(target)): \(inputFixed) elements are not divisible by \(outputFixed)")
        }
        dims[inferIndex] = .fixed(inputFixed / outputFixed)
        return Shape(dims)
    }

    static func concat(_ ctx: inout InferenceContext, inputs: [Int]) throws -> TensorType? {
        let context = ctx
        guard let first = inputs.compactMap({ context.type($0) }).first else { return nil }
        let shapes = inputs.map { context.shape($0) }
        guard let known = shapes.compactMap({ $0 }).first else { return TensorType(first.elementType, nil) }
        let axis = try ctx.axis(ctx.node.int("axis") ?? 0, rank: known.rank)
        guard shapes.allSatisfy({ $0 != nil }) else {
            var dims = known.dims
            dims[axis] = ctx.unknown()
            return TensorType(first.elementType, Shape(dims))
        }
        var dims = known.dims
        var total: Int? = 0
        for s in shapes.compactMap({ $0 }) {
            guard s.rank == known.rank else { throw ctx.mismatch("inputs have different ranks: \(known) and \(s)") }
            for i in 0..<s.rank where i != axis {
                if case .fixed(let a) = dims[i], case .fixed(let b) = s[i], a != b {
                    throw ctx.mismatch("inputs \(known) and \(s) differ on axis \(i), which is not the concat axis \(axis)")
                }
                if dims[i].value == nil, s[i].value != nil { dims[i] = s[i] }
            }
            total = s[axis].value.flatMap { v in total.map { $0 + v } }
        }
        dims[axis] = total.map(Dimension.fixed) ?? (shapes.count == 1 ? known[axis] : ctx.unknown())
        return TensorType(first.elementType, Shape(dims))
    }

    static func split(_ ctx: inout InferenceContext) throws -> [TensorType?] {
        let n = ctx.node.outputs.count
        guard let t = ctx.type(0) else { return Array(repeating: nil, count: n) }
        guard let s = t.shape else { return Array(repeating: TensorType(t.elementType, nil), count: n) }
        let axis = try ctx.axis(ctx.node.int("axis") ?? 0, rank: s.rank)
        var sizes: [Int]?
        if ctx.hasInput(1) {
            sizes = ctx.constantInts(1)
            if let sz = sizes {
                guard sz.count == n, sz.allSatisfy({ $0 >= 0 }) else {
                    throw ctx.mismatch("split sizes \(sz) do not match \(n) outputs")
                }
                if let d = s[axis].value, sz.reduce(0, +) != d {
                    // Each size is at most 2^40 (constantInts), so the sum cannot overflow.
                    throw ctx.mismatch("split sizes \(sz) sum to \(sz.reduce(0, +)), not axis \(axis) size \(d) of \(s)")
                }
            }
        } else if let d = s[axis].value {
            // Equal chunks; with num_outputs the last may be smaller (opset 18 rule).
            let chunk = (d + n - 1) / max(n, 1)
            sizes = (0..<n).map { i in max(min(chunk, d - i * chunk), 0) }
        }
        return (0..<n).map { i in
            var dims = s.dims
            dims[axis] = sizes.map { .fixed($0[i]) } ?? ctx.unknown()
            return TensorType(t.elementType, Shape(dims))
        }
    }

    static func slice(_ ctx: inout InferenceContext) throws -> TensorType? {
        guard let t = ctx.type(0) else { return nil }
        guard let s = t.shape else { return TensorType(t.elementType, nil) }
        guard let starts = ctx.constantInts(1), let ends = ctx.constantInts(2) else {
            return TensorType(t.elementType, ctx.unknownShape(rank: s.rank))
        }
        let axes = ctx.hasInput(3) ? ctx.constantInts(3) : Array(0..<starts.count)
        let steps = ctx.hasInput(4) ? ctx.constantInts(4) : Array(repeating: 1, count: starts.count)
        guard let axes, let steps else { return TensorType(t.elementType, ctx.unknownShape(rank: s.rank)) }
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
            throw ctx.mismatch("starts \(starts), ends \(ends), axes \(axes), steps \(steps) must have the same length")
        }
        var dims = s.dims
        for (k, axisValue) in axes.enumerated() {
            let a = try ctx.axis(axisValue, rank: s.rank, attribute: "axes")
            let step = steps[k]
            guard step != 0 else { throw ctx.mismatch("step 0 on axis \(a)") }
            guard case .fixed(let n) = s[a] else {
                if starts[k] == 0 && step == 1 && ends[k] >= Int(Int32.max) { continue }
                dims[a] = ctx.unknown()
                continue
            }
            let (lo, hi) = sliceBounds(start: starts[k], end: ends[k], step: step, size: n)
            // step is within ±2^40 (constantInts), so these cannot overflow.
            dims[a] = .fixed(step > 0 ? (hi > lo ? (hi - lo - 1) / step + 1 : 0) : (lo > hi ? (lo - hi - 1) / -step + 1 : 0))
        }
        return TensorType(t.elementType, Shape(dims))
    }

    /// ONNX Slice clamping: returns the effective (start, end) for one axis of size `size`.
    public static func sliceBounds(start: Int, end: Int, step: Int, size n: Int) -> (Int, Int) {
        var s = start < 0 ? start + n : start
        var e = end < 0 ? end + n : end
        if step > 0 {
            s = min(max(s, 0), n)
            e = min(max(e, 0), n)
        } else {
            s = min(max(s, 0), n - 1)
            e = min(max(e, -1), n - 1)
        }
        return (s, e)
    }

    static func pad(_ ctx: inout InferenceContext) throws -> TensorType? {
        guard let t = ctx.type(0) else { return nil }
        guard let s = t.shape else { return TensorType(t.elementType, nil) }
        guard let pads = ctx.constantInts(1) else { return TensorType(t.elementType, ctx.unknownShape(rank: s.rank)) }
        let axes = try (ctx.hasInput(3) ? ctx.constantInts(3) : Array(0..<s.rank)).map {
            try $0.map { try ctx.axis($0, rank: s.rank, attribute: "axes") }
        }
        guard let axes else { return TensorType(t.elementType, ctx.unknownShape(rank: s.rank)) }
        guard pads.count == 2 * axes.count else {
            throw ctx.mismatch("pads \(pads) must hold 2 × \(axes.count) values for input \(s)")
        }
        var dims = s.dims
        for (k, a) in axes.enumerated() {
            let add = pads[k] + pads[axes.count + k]
            if add == 0 { continue }
            if case .fixed(let n) = s[a] {
                guard n + add >= 0 else { throw ctx.mismatch("pads \(pads) shrink axis \(a) of \(s) below 0") }
                dims[a] = .fixed(n + add)
            } else {
                dims[a] = ctx.unknown()
            }
        }
        return TensorType(t.elementType, Shape(dims))
    }

    static func resize(_ ctx: inout InferenceContext) throws -> TensorType? {
        guard let t = ctx.type(0) else { return nil }
        guard let s = t.shape else { return TensorType(t.elementType, nil) }
        let axes = try (ctx.node.ints("axes") ?? Array(0..<s.rank)).map { try ctx.axis($0, rank: s.rank, attribute: "axes") }
        var dims = s.dims
        if ctx.hasInput(3) {
            guard let sizes = ctx.constantInts(3) else { return TensorType(t.elementType, ctx.unknownShape(rank: s.rank)) }
            guard sizes.count == axes.count else { throw ctx.mismatch("sizes \(sizes) do not match \(axes.count) axes of \(s)") }
            let policy = ctx.node.string("keep_aspect_ratio_policy") ?? "stretch"
            if policy != "stretch" {
                guard let inSizes = Shape(axes.map { s[$0] }).concrete else {
                    return TensorType(t.elementType, ctx.unknownShape(rank: s.rank))
                }
                let ratios = zip(sizes, inSizes).map { Double($0) / Double($1) }
                let scale = policy == "not_larger" ? ratios.min() ?? 1 : ratios.max() ?? 1
                for (k, a) in axes.enumerated() {
                    let v = (scale * Double(inSizes[k])).rounded()
                    guard v.isFinite, v >= 0, v <= Double(InferenceContext.maxDimension) else {
                        throw ctx.mismatch("sizes \(sizes) give an implausible output")
                    }
                    dims[a] = .fixed(Int(v))
                }
            } else {
                for (k, a) in axes.enumerated() { dims[a] = .fixed(sizes[k]) }
            }
            return TensorType(t.elementType, Shape(dims))
        }
        guard ctx.hasInput(2) else { throw ctx.mismatch("Resize needs either scales or sizes") }
        guard let scales = ctx.constant(2)?.asDoubles else { return TensorType(t.elementType, ctx.unknownShape(rank: s.rank)) }
        guard scales.count == axes.count, scales.allSatisfy({ $0 > 0 && $0 < 1e6 }) else {
            throw ctx.mismatch("scales \(scales) must hold \(axes.count) positive values for \(s)")
        }
        for (k, a) in axes.enumerated() where scales[k] != 1 {
            // ONNX: output = floor(input × scale), computed in float32.
            dims[a] = s[a].value.map { .fixed(Int((Float($0) * Float(scales[k])).rounded(.down))) } ?? ctx.unknown()
        }
        return TensorType(t.elementType, Shape(dims))
    }

    static func reduce(_ ctx: inout InferenceContext) throws -> TensorType? {
        guard let t = ctx.type(0) else { return nil }
        guard let s = t.shape else { return TensorType(t.elementType, nil) }
        let keep = (ctx.node.int("keepdims") ?? 1) != 0
        let noopEmpty = (ctx.node.int("noop_with_empty_axes") ?? 0) != 0
        var axes: [Int]
        if ctx.hasInput(1) {
            guard let a = ctx.constantInts(1) else {
                return TensorType(t.elementType, keep ? ctx.unknownShape(rank: s.rank) : nil)
            }
            axes = a
        } else {
            axes = []
        }
        if axes.isEmpty {
            if noopEmpty { return TensorType(t.elementType, s) }
            axes = Array(0..<s.rank)
        }
        let norm = try Set(axes.map { try ctx.axis($0, rank: s.rank, attribute: "axes") })
        var dims: [Dimension] = []
        for (i, d) in s.dims.enumerated() {
            if norm.contains(i) {
                if keep { dims.append(.fixed(1)) }
            } else {
                dims.append(d)
            }
        }
        return TensorType(t.elementType, Shape(dims))
    }
}
