/// Detection and sampling ops: NonMaxSuppression, RoiAlign, GridSample, AffineGrid, MaxUnpool,
/// DeformConv.
extension ShapeInferenceRegistry {
    mutating func registerVision() {
        // One row (batch, class, box) per selected box: how many depends on the scores.
        register("NonMaxSuppression") { ctx in [TensorType(.int64, Shape([ctx.unknown(), .fixed(3)]))] }
        register("RoiAlign") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            let h = try ctx.boundedInt("output_height", default: 1), w = try ctx.boundedInt("output_width", default: 1)
            let mode = ctx.node.string("mode") ?? "avg"
            guard mode == "avg" || mode == "max" else { throw ctx.badAttribute("mode", "'\(mode)' is not avg or max") }
            let x = ctx.shape(0), rois = ctx.shape(1)
            if let x, x.rank != 4 { throw ctx.mismatch("X \(x) must be NCHW") }
            if let rois {
                guard rois.rank == 2 else { throw ctx.mismatch("rois \(rois) must be [num_rois, 4]") }
                if case .fixed(let four) = rois[1], four != 4 { throw ctx.mismatch("rois \(rois) must be [num_rois, 4]") }
            }
            let n = rois?[0] ?? ctx.shape(2)?.dims.first ?? ctx.unknown()
            return [TensorType(t.elementType, Shape([n, x?[1] ?? ctx.unknown(), .fixed(h), .fixed(w)]))]
        }
        register("GridSample") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let x = t.shape, let grid = ctx.shape(1) else { return [TensorType(t.elementType, nil)] }
            guard x.rank >= 3, grid.rank == x.rank else {
                throw ctx.mismatch("X \(x) and grid \(grid) must have the same rank ≥ 3 ([N, C, D...] and [N, D_out..., r])")
            }
            if case .fixed(let r) = grid[grid.rank - 1], r != x.rank - 2 {
                throw ctx.mismatch("grid \(grid) must end in \(x.rank - 2) coordinates for X \(x)")
            }
            return [TensorType(t.elementType, Shape([x[0], x[1]] + Array(grid.dims[1..<(grid.rank - 1)])))]
        }
        register("AffineGrid") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let size = ctx.shapeValue(1) else {
                if let s = ctx.shape(1), s.rank == 1, case .fixed(let r) = s[0], r >= 3 {
                    return [TensorType(t.elementType, ctx.unknownShape(rank: r))]
                }
                return [TensorType(t.elementType, nil)]
            }
            guard size.count == 4 || size.count == 5 else { throw ctx.mismatch("size \(size) must be [N, C, H, W] or [N, C, D, H, W]") }
            return [TensorType(t.elementType, Shape([size[0]] + Array(size[2...]) + [.fixed(size.count - 2)]))]
        }
        register("MaxUnpool") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            if ctx.hasInput(2) {
                if let dims = ctx.shapeValue(2) { return [TensorType(t.elementType, Shape(dims))] }
                return [TensorType(t.elementType, t.shape.map { ctx.unknownShape(rank: $0.rank) })]
            }
            guard let x = t.shape else { return [TensorType(t.elementType, nil)] }
            guard x.rank >= 3 else { throw ctx.mismatch("X \(x) must have rank ≥ 3 (N, C, spatial...)") }
            let spatial = x.rank - 2
            guard let kernel = ctx.node.ints("kernel_shape") else { throw ctx.badAttribute("kernel_shape", "is required") }
            let a = try Self.spatialAttributes(ctx, spatial: spatial, kernel: kernel)
            var dims = Array(x.dims[0..<2])
            for i in 0..<spatial {
                guard case .fixed(let n) = x[2 + i] else {
                    dims.append(ctx.unknown())
                    continue
                }
                // The inverse of the pooling size rule (ONNX MaxUnpool's default output size).
                let out = (n - 1) * a.strides[i] + kernel[i] - a.pads[i] - a.pads[spatial + i]
                guard out >= 0 else { throw ctx.mismatch("output size \(out) along spatial axis \(i) is negative") }
                dims.append(.fixed(out))
            }
            return [TensorType(t.elementType, Shape(dims))]
        }
        register("DeformConv") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let x = t.shape, let w = ctx.shape(1) else { return [TensorType(t.elementType, nil)] }
            guard x.rank >= 3, w.rank == x.rank else { throw ctx.mismatch("X \(x) and W \(w) must have the same rank ≥ 3") }
            // The offset input is [N, offset_group·2·kernel, out spatial...]: it fixes the output size.
            let spatial = ctx.shape(2).flatMap { $0.rank == x.rank ? Array($0.dims[2...]) : nil }
            return [TensorType(t.elementType, Shape([x[0], w[0]] + (spatial ?? (0..<(x.rank - 2)).map { _ in ctx.unknown() })))]
        }
    }
}
