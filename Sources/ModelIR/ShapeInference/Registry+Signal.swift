/// Window functions, DFT, STFT and MelWeightMatrix. Complex values are a trailing axis of
/// size 2 (real, imaginary); real signals have a trailing 1.
extension ShapeInferenceRegistry {
    mutating func registerSignal() {
        for op in ["HannWindow", "HammingWindow", "BlackmanWindow"] {
            register(op) { ctx in
                let et = try Self.outputDataType(ctx)
                return [TensorType(et, Shape([try Self.scalarSize(&ctx, 0, "size")]))]
            }
        }
        register("MelWeightMatrix") { ctx in
            let et = try Self.outputDataType(ctx)
            let bins = try Self.scalarSize(&ctx, 0, "num_mel_bins")
            let dft = try Self.scalarSize(&ctx, 1, "dft_length")
            return [TensorType(et, Shape([dft.value.map { .fixed($0 / 2 + 1) } ?? ctx.unknown(), bins]))]
        }
        register("DFT") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            guard s.rank >= 3 else { throw ctx.mismatch("input \(s) must be [batch, n..., 1 or 2]") }
            if case .fixed(let c) = s[s.rank - 1], c != 1 && c != 2 { throw ctx.mismatch("input \(s) must end in 1 (real) or 2 (complex)") }
            var axisValue = -2
            if ctx.hasInput(2) {
                guard let a = ctx.constantInts(2)?.first else { return [TensorType(t.elementType, ctx.unknownShape(rank: s.rank))] }
                axisValue = a
            }
            let axis = try ctx.axis(axisValue, rank: s.rank)
            guard axis >= 1, axis < s.rank - 1 else {
                throw ctx.badAttribute("axis", "\(axisValue) must name a signal axis of \(s), not the batch or complex axis")
            }
            var dims = s.dims
            if ctx.hasInput(1) {
                guard let n = ctx.constantInts(1)?.first else { return [TensorType(t.elementType, ctx.unknownShape(rank: s.rank))] }
                guard n >= 1 else { throw ctx.mismatch("dft_length \(n) must be positive") }
                dims[axis] = .fixed(n)
            }
            let inverse = (ctx.node.int("inverse") ?? 0) != 0
            if (ctx.node.int("onesided") ?? 0) != 0 && !inverse {
                dims[axis] = dims[axis].value.map { .fixed($0 / 2 + 1) } ?? ctx.unknown()
            }
            dims[s.rank - 1] = .fixed(2)
            return [TensorType(t.elementType, Shape(dims))]
        }
        register("STFT") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let s = t.shape else { return [TensorType(t.elementType, nil)] }
            guard s.rank == 3 else { throw ctx.mismatch("signal \(s) must be [batch, length, 1 or 2]") }
            var frameLength: Int?
            if let f = ctx.constantInts(3)?.first {
                frameLength = f
            } else if let w = ctx.shape(2), w.rank == 1, case .fixed(let n) = w[0] {
                frameLength = n
            }
            let step = ctx.constantInts(1)?.first
            if let step, step < 1 { throw ctx.mismatch("frame_step \(step) must be positive") }
            var frames: Dimension = ctx.unknown()
            if let step, let frameLength, case .fixed(let n) = s[1] {
                guard frameLength >= 1, frameLength <= n else { throw ctx.mismatch("frame length \(frameLength) does not fit signal \(s)") }
                frames = .fixed((n - frameLength) / step + 1)
            }
            let onesided = (ctx.node.int("onesided") ?? 1) != 0
            let bins: Dimension = frameLength.map { .fixed(onesided ? $0 / 2 + 1 : $0) } ?? ctx.unknown()
            return [TensorType(t.elementType, Shape([s[0], frames, bins, .fixed(2)]))]
        }
    }

    /// `output_datatype` as the canonical ElementType name; float32 when absent.
    static func outputDataType(_ ctx: InferenceContext) throws -> ElementType {
        guard let name = ctx.node.string("output_datatype") else { return .float32 }
        guard let et = ElementType(rawValue: name) else {
            throw ctx.badAttribute("output_datatype", "canonical form carries an ElementType name (e.g. \"float32\"), not '\(name)'")
        }
        return et
    }

    /// A scalar size input as a dimension (unknown when it is not a constant).
    static func scalarSize(_ ctx: inout InferenceContext, _ i: Int, _ name: String) throws -> Dimension {
        guard let v = ctx.constantInts(i)?.first else { return ctx.unknown() }
        guard v >= 0 else { throw ctx.mismatch("\(name) \(v) must not be negative") }
        return .fixed(v)
    }
}
