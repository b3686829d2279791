/// Convolution, pooling, matrix products and recurrent ops.
extension ShapeInferenceRegistry {
    mutating func registerNN() {
        register("Conv") { ctx in try [Self.conv(&ctx, weightIndex: 1, elementType: ctx.elementType(0))] }
        register("ConvInteger") { ctx in try [Self.conv(&ctx, weightIndex: 1, elementType: .int32)] }
        register("ConvTranspose") { ctx in try [Self.convTranspose(&ctx)] }
        for op in ["MaxPool", "AveragePool", "LpPool"] {
            register(op) { ctx in
                let y = try Self.pool(&ctx, inputIndex: 0, channelsLast: false)
                return [y, y.map { TensorType(.int64, $0.shape) }]
            }
        }
        for op in ["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"] {
            register(op) { ctx in
                guard let t = ctx.type(0) else { return [nil] }
                guard let s = t.shape, s.rank >= 2 else { return [TensorType(t.elementType, t.shape)] }
                return [TensorType(t.elementType, Shape(Array(s.dims[0..<2]) + Array(repeating: .fixed(1), count: s.rank - 2)))]
            }
        }
        register("Gemm") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            return [TensorType(t.elementType, try Self.gemm(&ctx))]
        }
        register("MatMul") { ctx in [TensorType(ctx.elementType(0) ?? .float32, try Self.matmul(&ctx, 0, 1))] }
        register("MatMulInteger") { ctx in [TensorType(.int32, try Self.matmul(&ctx, 0, 1))] }
        register("LSTM") { ctx in try Self.recurrent(&ctx, gates: 4, outputs: 3) }
        register("GRU") { ctx in try Self.recurrent(&ctx, gates: 3, outputs: 2) }
        register("RNN") { ctx in try Self.recurrent(&ctx, gates: 1, outputs: 2) }
    }

    /// Output spatial size for one axis of Conv/pooling.
    static func windowOutput(
        _ input: Dimension, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int,
        autoPad: String, ceilMode: Bool, _ ctx: inout InferenceContext
    ) throws -> Dimension {
        let effective = (kernel - 1) * dilation + 1
        guard case .fixed(let n) = input else {
            if kernel == 1 && stride == 1 && padBegin == 0 && padEnd == 0 { return input }
            if autoPad.hasPrefix("SAME") && stride == 1 { return input }
            return ctx.unknown()
        }
        switch autoPad {
        case "SAME_UPPER", "SAME_LOWER": return .fixed((n + stride - 1) / stride)
        case "VALID":
            guard n >= effective else {
                throw ctx.mismatch("input size \(n) is smaller than the dilated kernel \(effective)")
            }
            return .fixed((n - effective) / stride + 1)
        default:
            let span = n + padBegin + padEnd - effective
            guard span >= 0 else {
                throw ctx.mismatch("padded input size \(n + padBegin + padEnd) is smaller than the dilated kernel \(effective)")
            }
            var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
            // The last window must start inside the input or its left padding (ONNX/PyTorch rule).
            if ceilMode && (out - 1) * stride >= n + padBegin { out -= 1 }
            return .fixed(out)
        }
    }

    static func spatialAttributes(_ ctx: InferenceContext, spatial: Int, kernel: [Int]) throws
        -> (strides: [Int], dilations: [Int], pads: [Int], autoPad: String)
    {
        let node = ctx.node
        let strides = node.ints("strides") ?? Array(repeating: 1, count: spatial)
        let dilations = node.ints("dilations") ?? Array(repeating: 1, count: spatial)
        let pads = node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        guard kernel.count == spatial else {
            throw ctx.badAttribute("kernel_shape", "has \(kernel.count) values for \(spatial) spatial dimensions")
        }
        guard strides.count == spatial, strides.allSatisfy({ $0 > 0 }) else {
            throw ctx.badAttribute("strides", "\(strides) must hold \(spatial) positive values")
        }
        guard dilations.count == spatial, dilations.allSatisfy({ $0 > 0 }) else {
            throw ctx.badAttribute("dilations", "\(dilations) must hold \(spatial) positive values")
        }
        guard pads.count == 2 * spatial, pads.allSatisfy({ $0 >= 0 }) else {
            throw ctx.badAttribute("pads", "\(pads) must hold \(2 * spatial) non-negative values (begins then ends)")
        }
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
            throw ctx.badAttribute("auto_pad", "'\(autoPad)' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")
        }
        guard kernel.allSatisfy({ $0 > 0 }) else { throw ctx.badAttribute("kernel_shape", "\(kernel) must be positive") }
        // Bounded so window arithmetic on dimensions up to 2^40 cannot overflow.
        let limit = 1 << 20
        for (name, values) in [("kernel_shape", kernel), ("strides", strides), ("dilations", dilations), ("pads", pads)]
        where values.contains(where: { $0 > limit }) {
            throw ctx.badAttribute(name, "\(values) has a value above \(limit)")
        }
        return (strides, dilations, pads, autoPad)
    }

    static func conv(_ ctx: inout InferenceContext, weightIndex: Int, elementType: ElementType?) throws -> TensorType? {
        guard let et = elementType else { return nil }
        guard let x = ctx.shape(0), let w = ctx.shape(weightIndex) else { return TensorType(et, nil) }
        guard x.rank >= 3, w.rank == x.rank else {
            throw ctx.mismatch("input \(x) and weight \(w) must have the same rank ≥ 3 (N, C, spatial…)")
        }
        let group = try ctx.boundedInt("group", default: 1)
        guard group >= 1 else { throw ctx.badAttribute("group", "\(group) must be ≥ 1") }
        if case .fixed(let c) = x[1], case .fixed(let wc) = w[1], c != wc * group {
            throw ctx.mismatch("input \(x) has \(c) channels but weight \(w) expects \(wc) × group \(group) = \(wc * group)")
        }
        if case .fixed(let m) = w[0], m % group != 0 {
            throw ctx.mismatch("weight \(w) has \(m) output channels, not divisible by group \(group)")
        }
        let spatial = x.rank - 2
        guard let kernel = ctx.node.ints("kernel_shape") ?? Shape(Array(w.dims[2...])).concrete else {
            return TensorType(et, Shape([x[0], w[0]] + (0..<spatial).map { _ in ctx.unknown() }))
        }
        let a = try spatialAttributes(ctx, spatial: spatial, kernel: kernel)
        var dims = [x[0], w[0]]
        for i in 0..<spatial {
            dims.append(
                try windowOutput(
                    x[2 + i], kernel: kernel[i], stride: a.strides[i], dilation: a.dilations[i], padBegin: a.pads[i],
                    padEnd: a.pads[spatial + i], autoPad: a.autoPad, ceilMode: false, &ctx))
        }
        return TensorType(et, Shape(dims))
    }

    static func convTranspose(_ ctx: inout InferenceContext) throws -> TensorType? {
        guard let et = ctx.elementType(0) else { return nil }
        guard let x = ctx.shape(0), let w = ctx.shape(1) else { return TensorType(et, nil) }
        guard x.rank >= 3, w.rank == x.rank else {
            throw ctx.mismatch("input \(x) and weight \(w) must have the same rank ≥ 3")
        }
        let group = try ctx.boundedInt("group", default: 1)
        guard group >= 1 else { throw ctx.badAttribute("group", "\(group) must be ≥ 1") }
        if case .fixed(let c) = x[1], case .fixed(let wc) = w[0], c != wc {
            throw ctx.mismatch("input \(x) has \(c) channels but weight \(w) has \(wc) input channels")
        }
        let channels: Dimension = w[1].value.map { .fixed($0 * group) } ?? ctx.unknown()
        let spatial = x.rank - 2
        guard let kernel = ctx.node.ints("kernel_shape") ?? Shape(Array(w.dims[2...])).concrete else {
            return TensorType(et, Shape([x[0], channels] + (0..<spatial).map { _ in ctx.unknown() }))
        }
        let a = try spatialAttributes(ctx, spatial: spatial, kernel: kernel)
        if let outputShape = ctx.node.ints("output_shape") {
            let tail = Array(outputShape.suffix(spatial))
            guard tail.count == spatial else { throw ctx.badAttribute("output_shape", "\(outputShape) needs \(spatial) values") }
            return TensorType(et, Shape([x[0], channels] + tail.map(Dimension.fixed)))
        }
        let outputPadding = ctx.node.ints("output_padding") ?? Array(repeating: 0, count: spatial)
        guard outputPadding.count == spatial, outputPadding.allSatisfy({ (0...(1 << 20)).contains($0) }) else {
            throw ctx.badAttribute("output_padding", "\(outputPadding) needs \(spatial) values")
        }
        var dims = [x[0], channels]
        for i in 0..<spatial {
            guard case .fixed(let n) = x[2 + i] else {
                dims.append(ctx.unknown())
                continue
            }
            if a.autoPad.hasPrefix("SAME") {
                dims.append(.fixed(n * a.strides[i]))
            } else {
                let pads = a.autoPad == "VALID" ? 0 : a.pads[i] + a.pads[spatial + i]
                let out = a.strides[i] * (n - 1) + outputPadding[i] + (kernel[i] - 1) * a.dilations[i] + 1 - pads
                guard out > 0 else { throw ctx.mismatch("output size \(out) along spatial axis \(i) is not positive") }
                dims.append(.fixed(out))
            }
        }
        return TensorType(et, Shape(dims))
    }

    static func pool(_ ctx: inout InferenceContext, inputIndex: Int, channelsLast: Bool) throws -> TensorType? {
        guard let t = ctx.type(inputIndex) else { return nil }
        guard let x = t.shape else { return TensorType(t.elementType, nil) }
        guard x.rank >= 3 else { throw ctx.mismatch("input \(x) must have rank ≥ 3 (N, C, spatial…)") }
        let spatial = x.rank - 2
        guard let kernel = ctx.node.ints("kernel_shape") else {
            throw ctx.badAttribute("kernel_shape", "is required for pooling")
        }
        let a = try spatialAttributes(ctx, spatial: spatial, kernel: kernel)
        let ceilMode = (ctx.node.int("ceil_mode") ?? 0) != 0
        let first = channelsLast ? 1 : 2
        var dims = x.dims
        for i in 0..<spatial {
            dims[first + i] = try windowOutput(
                x[first + i], kernel: kernel[i], stride: a.strides[i], dilation: a.dilations[i], padBegin: a.pads[i],
                padEnd: a.pads[spatial + i], autoPad: a.autoPad, ceilMode: ceilMode, &ctx)
        }
        return TensorType(t.elementType, Shape(dims))
    }

    static func gemm(_ ctx: inout InferenceContext, a ia: Int = 0, b ib: Int = 1, c ic: Int = 2) throws -> Shape? {
        guard let a = ctx.shape(ia), let b = ctx.shape(ib) else { return nil }
        guard a.rank == 2, b.rank == 2 else { throw ctx.mismatch("Gemm needs 2-D A and B, got \(a) and \(b)") }
        let transA = (ctx.node.int("transA") ?? 0) != 0
        let transB = (ctx.node.int("transB") ?? 0) != 0
        let (m, ka) = transA ? (a[1], a[0]) : (a[0], a[1])
        let (kb, n) = transB ? (b[1], b[0]) : (b[0], b[1])
        if case .fixed(let x) = ka, case .fixed(let y) = kb, x != y {
            throw ctx.mismatch("inner dimensions differ: A \(a)\(transA ? "ᵀ" : "") has K=\(x), B \(b)\(transB ? "ᵀ" : "") has K=\(y)")
        }
        let out = Shape([m, n])
        if let c = ctx.shape(ic) { _ = try Broadcasting.shape([out, c], &ctx) }
        return out
    }

    /// numpy.matmul: 1-D operands are promoted and the promoted axis dropped again.
    static func matmul(_ ctx: inout InferenceContext, _ ia: Int, _ ib: Int) throws -> Shape? {
        guard let a = ctx.shape(ia), let b = ctx.shape(ib) else { return nil }
        guard a.rank >= 1, b.rank >= 1 else { throw ctx.mismatch("MatMul operands must not be scalars: \(a), \(b)") }
        let a2 = a.rank == 1 ? Shape([.fixed(1), a[0]]) : a
        let b2 = b.rank == 1 ? Shape([b[0], .fixed(1)]) : b
        let k1 = a2[a2.rank - 1]
        let k2 = b2[b2.rank - 2]
        if case .fixed(let x) = k1, case .fixed(let y) = k2, x != y {
            throw ctx.mismatch("inner dimensions differ: \(a) has K=\(x), \(b) has K=\(y)")
        }
        let batch = try Broadcasting.shape([Shape(Array(a2.dims.dropLast(2))), Shape(Array(b2.dims.dropLast(2)))], &ctx) ?? Shape.scalar
        var dims = batch.dims
        if a.rank != 1 { dims.append(a2[a2.rank - 2]) }
        if b.rank != 1 { dims.append(b2[b2.rank - 1]) }
        return Shape(dims)
    }

    /// LSTM/GRU/RNN: Y [seq, dirs, batch, hidden] and states [dirs, batch, hidden] (layout 0),
    /// or batch-first with layout 1.
    static func recurrent(_ ctx: inout InferenceContext, gates: Int, outputs: Int) throws -> [TensorType?] {
        guard let t = ctx.type(0) else { return Array(repeating: nil, count: outputs) }
        let direction = ctx.node.string("direction") ?? "forward"
        let dirs: Dimension = .fixed(direction == "bidirectional" ? 2 : 1)
        let layout = ctx.node.int("layout") ?? 0
        var hidden: Dimension
        if ctx.node.int("hidden_size") != nil {
            hidden = .fixed(try ctx.boundedInt("hidden_size", default: 0))
        } else if let r = ctx.shape(2), r.rank == 3 {
            hidden = r[2]
        } else {
            hidden = ctx.unknown()
        }
        if let w = ctx.shape(1), w.rank == 3, case .fixed(let rows) = w[1], case .fixed(let h) = hidden, rows != gates * h {
            throw ctx.mismatch("weight W \(w) has \(rows) rows but hidden_size \(h) needs \(gates) × \(h)")
        }
        guard let x = t.shape, x.rank == 3 else {
            return Array(repeating: TensorType(t.elementType, nil), count: outputs)
        }
        let (seq, batch) = layout == 0 ? (x[0], x[1]) : (x[1], x[0])
        let y = layout == 0 ? Shape([seq, dirs, batch, hidden]) : Shape([batch, seq, dirs, hidden])
        let state = layout == 0 ? Shape([dirs, batch, hidden]) : Shape([batch, dirs, hidden])
        return [TensorType(t.elementType, y)] + Array(repeating: TensorType(t.elementType, state), count: outputs - 1)
    }
}
