import ModelIR

/// Transpose, Concat, Split, Slice, Expand, Tile, Pad: data movement on any stored element
/// type, planned as affine copies (Pad: per-axis index maps).
extension OpRegistry {
    mutating func registerDataMovement() {
        register("Transpose") { ctx in
            let x = try ctx.input(0, anyStored)
            let perm = ctx.ints("perm") ?? Array((0..<x.rank).reversed())
            guard perm.count == x.rank, Set(perm) == Set(0..<x.rank) else {
                throw ctx.fail("perm \(perm) is not a permutation of 0..<\(x.rank)")
            }
            let outShape = perm.map { x.shape[$0] }
            let out = ValueType(x.elementType, outShape)
            if x.elementType.byteSize == 1, ctx.kernels.q8.pointee.transpose8 != nil, let t = ByteTranspose(shape: x.shape, perm: perm) {
                let table = ctx.kernels.q8
                return .kernel(outputs: [out], workspaceBytes: 0) { b in
                    ByteTransposeKernel(table: table, shape: t, input: b.input(0), output: b.outputs[0])
                }
            }
            let inStrides = rowMajorStrides(x.shape)
            let c = StridedCopy(
                dims: outShape, inStrides: perm.map { inStrides[$0] }, outStrides: rowMajorStrides(outShape),
                elementSize: x.elementType.byteSize ?? 1)
            return copies(ctx, outputs: [out], [(0, 0, c)])
        }
        register("Concat") { ctx in
            let types = try (0..<ctx.inputCount).map { try ctx.input($0, anyStored) }
            guard let first = types.first else { throw ctx.fail("needs at least one input") }
            let axis = try ctx.axis(ctx.int("axis", 0), rank: first.rank)
            var outShape = first.shape
            outShape[axis] = 0
            for (i, t) in types.enumerated() {
                var a = t.shape, b = first.shape
                guard t.elementType == first.elementType, t.rank == first.rank else {
                    throw ctx.fail("input \(i) is \(t); all inputs must be \(first.elementType) of rank \(first.rank)")
                }
                a[axis] = 0
                b[axis] = 0
                guard a == b else { throw ctx.fail("input \(i) has shape \(t.shape); only axis \(axis) may differ from \(first.shape)") }
                outShape[axis] += t.shape[axis]
            }
            let outStrides = rowMajorStrides(outShape)
            var list: [(Int, Int, StridedCopy)] = []
            var offset = 0
            for (i, t) in types.enumerated() {
                list.append(
                    (
                        i, 0,
                        StridedCopy(
                            dims: t.shape, inStrides: rowMajorStrides(t.shape), outStrides: outStrides,
                            outBase: offset * outStrides[axis], elementSize: first.elementType.byteSize ?? 1)
                    ))
                offset += t.shape[axis]
            }
            return copies(ctx, outputs: [ValueType(first.elementType, outShape)], list)
        }
        register("Split") { ctx in
            let x = try ctx.input(0, anyStored)
            let axis = try ctx.axis(ctx.int("axis", 0), rank: x.rank)
            let n = ctx.outputCount()
            var sizes: [Int]
            if let s = try ctx.optionalInts(1, "split") {
                guard s.count == n, s.allSatisfy({ $0 >= 0 && $0 <= x.shape[axis] }), s.reduce(0, +) == x.shape[axis] else {
                    throw ctx.fail("split sizes \(s) must be \(n) non-negative numbers summing to \(x.shape[axis])")
                }
                sizes = s
            } else {
                let parts = ctx.int("num_outputs", n)
                guard parts == n, n > 0 else { throw ctx.fail("num_outputs \(parts) must equal the \(n) outputs") }
                let chunk = (x.shape[axis] + n - 1) / n
                sizes = (0..<n).map { Swift.max(0, Swift.min(chunk, x.shape[axis] - $0 * chunk)) }
            }
            let inStrides = rowMajorStrides(x.shape)
            var outs: [ValueType] = []
            var list: [(Int, Int, StridedCopy)] = []
            var offset = 0
            for (i, size) in sizes.enumerated() {
                var shape = x.shape
                shape[axis] = size
                outs.append(ValueType(x.elementType, shape))
                list.append(
                    (
                        0, i,
                        StridedCopy(
                            dims: shape, inStrides: inStrides, outStrides: rowMajorStrides(shape),
                            inBase: offset * inStrides[axis], elementSize: x.elementType.byteSize ?? 1)
                    ))
                offset += size
            }
            return copies(ctx, outputs: outs, list)
        }
        register("Slice") { ctx in
            let x = try ctx.input(0, anyStored)
            let starts = try ctx.requireInts(1, "starts"), ends = try ctx.requireInts(2, "ends")
            let axes = try ctx.optionalInts(3, "axes") ?? Array(0..<starts.count)
            let steps = try ctx.optionalInts(4, "steps") ?? [Int](repeating: 1, count: starts.count)
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else {
                throw ctx.fail("starts \(starts), ends \(ends), axes \(axes) and steps \(steps) must have the same length")
            }
            var outShape = x.shape
            let inStrides = rowMajorStrides(x.shape)
            var strides = inStrides
            var base = 0
            var seen: Set<Int> = []
            for k in starts.indices {
                let a = try ctx.axis(axes[k], rank: x.rank)
                guard seen.insert(a).inserted else { throw ctx.fail("axis \(a) is sliced twice") }
                let step = steps[k]
                guard step != 0, step != .min else { throw ctx.fail("step \(step) on axis \(a) is invalid") }
                let dim = x.shape[a]
                func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(v, lo), hi) }
                var s = starts[k] < 0 ? starts[k] &+ dim : starts[k]
                var e = ends[k] < 0 ? ends[k] &+ dim : ends[k]
                let count: Int
                if step > 0 {
                    s = clamp(s, 0, dim)
                    e = clamp(e, 0, dim)
                    count = e > s ? 1 + (e - s - 1) / step : 0
                } else {
                    s = clamp(s, -1, dim - 1)
                    e = clamp(e, -1, dim - 1)
                    count = s > e ? 1 + (s - e - 1) / (-step) : 0
                }
                outShape[a] = count
                if count > 0 { base += s * inStrides[a] }
                strides[a] = inStrides[a] * step
            }
            let c = StridedCopy(
                dims: outShape, inStrides: strides, outStrides: rowMajorStrides(outShape), inBase: base,
                elementSize: x.elementType.byteSize ?? 1)
            return copies(ctx, outputs: [ValueType(x.elementType, outShape)], [(0, 0, c)])
        }
        register("Expand") { ctx in
            let x = try ctx.input(0, anyStored)
            let shape = try ctx.requireInts(1, "the shape")
            guard let out = broadcastShapes([x.shape, shape]) else { throw ctx.fail("\(x.shape) cannot be expanded to \(shape)") }
            let c = StridedCopy(
                dims: out, inStrides: broadcastStrides(x.shape, to: out), outStrides: rowMajorStrides(out),
                elementSize: x.elementType.byteSize ?? 1)
            return copies(ctx, outputs: [ValueType(x.elementType, out)], [(0, 0, c)])
        }
        register("Tile") { ctx in
            let x = try ctx.input(0, anyStored)
            let repeats = try ctx.requireInts(1, "repeats")
            guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
                throw ctx.fail("repeats \(repeats) must have \(x.rank) non-negative entries")
            }
            guard repeats.allSatisfy({ $0 <= maxGeometryValue }) else { throw ctx.fail("repeats \(repeats) exceed \(maxGeometryValue)") }
            let outShape = zip(x.shape, repeats).map { $0 * $1 }
            // View the output as [r0, d0, r1, d1, ...]: the input strides are 0 on the r axes.
            let inStrides = rowMajorStrides(x.shape), outStrides = rowMajorStrides(outShape)
            var dims: [Int] = [], si: [Int] = [], so: [Int] = []
            for k in 0..<x.rank {
                dims += [repeats[k], x.shape[k]]
                si += [0, inStrides[k]]
                so += [x.shape[k] * outStrides[k], outStrides[k]]
            }
            let c = StridedCopy(dims: dims, inStrides: si, outStrides: so, elementSize: x.elementType.byteSize ?? 1)
            return copies(ctx, outputs: [ValueType(x.elementType, outShape)], [(0, 0, c)])
        }
        register("Pad") { ctx in try planPad(ctx) }
    }
}

func copies(_ ctx: NodePlanContext, outputs: [ValueType], _ list: [(Int, Int, StridedCopy)]) -> PlannedOp {
    .kernel(outputs: outputs, workspaceBytes: 0) { b in
        StridedCopyKernel(copies: list.map { (b.input($0.0), b.outputs[$0.1], $0.2) })
    }
}
