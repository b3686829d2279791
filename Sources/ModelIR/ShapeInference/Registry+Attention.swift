/// Attention (opset 23+) and the training losses NegativeLogLikelihoodLoss and
/// SoftmaxCrossEntropyLoss.
extension ShapeInferenceRegistry {
    mutating func registerAttention() {
        register("Attention") { ctx in try Self.attention(&ctx) }
        register("NegativeLogLikelihoodLoss") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            return [TensorType(t.elementType, try Self.lossShape(&ctx))]
        }
        register("SoftmaxCrossEntropyLoss") { ctx in
            guard let t = ctx.type(0) else { return [nil, nil] }
            return [TensorType(t.elementType, try Self.lossShape(&ctx)), TensorType(t.elementType, t.shape)]
        }
    }

    /// Loss output: the target's shape for reduction "none", a scalar for "mean" and "sum".
    static func lossShape(_ ctx: inout InferenceContext) throws -> Shape? {
        let reduction = ctx.node.string("reduction") ?? "mean"
        guard ["none", "mean", "sum"].contains(reduction) else {
            throw ctx.badAttribute("reduction", "'\(reduction)' is not none, mean or sum")
        }
        if let x = ctx.shape(0), let target = ctx.shape(1) {
            guard x.rank >= 2, target.rank == x.rank - 1 else {
                throw ctx.mismatch("input \(x) must be [N, C, d...] and target \(target) [N, d...]")
            }
        }
        return reduction == "none" ? ctx.shape(1) : Shape.scalar
    }

    /// Y, present_key, present_value, qk_matmul_output for 3-D ([B, S, hidden]) or 4-D
    /// ([B, heads, S, head_size]) Q/K/V, with an optional past cache concatenated on the
    /// sequence axis.
    static func attention(_ ctx: inout InferenceContext) throws -> [TensorType?] {
        guard let t = ctx.type(0) else { return [nil, nil, nil, nil] }
        let et = t.elementType
        guard let q = t.shape, let k = ctx.shape(1), let v = ctx.shape(2) else {
            return [TensorType(et, nil), TensorType(et, nil), TensorType(et, nil), TensorType(et, nil)]
        }
        guard (q.rank == 3 || q.rank == 4), k.rank == q.rank, v.rank == q.rank else {
            throw ctx.mismatch("Q \(q), K \(k) and V \(v) must all be 3-D [B, S, hidden] or 4-D [B, heads, S, head_size]")
        }
        let batch = q[0]
        var qHeads: Dimension, kvHeads: Dimension, qSeq: Dimension, kvSeq: Dimension, headSize: Dimension, vHeadSize: Dimension
        if q.rank == 4 {
            (qHeads, qSeq, headSize) = (q[1], q[2], q[3])
            (kvHeads, kvSeq) = (k[1], k[2])
            vHeadSize = v[3]
            if case .fixed(let a) = q[3], case .fixed(let b) = k[3], a != b {
                throw ctx.mismatch("Q \(q) and K \(k) have different head sizes")
            }
            if case .fixed(let a) = qHeads, case .fixed(let b) = kvHeads, b == 0 || a % b != 0 {
                throw ctx.mismatch("Q's \(a) heads are not a multiple of K's \(b) heads (grouped-query attention)")
            }
        } else {
            let qn = try ctx.boundedInt("q_num_heads", default: 0), kvn = try ctx.boundedInt("kv_num_heads", default: 0)
            guard qn > 0, kvn > 0 else {
                throw ctx.badAttribute("q_num_heads", "3-D Attention inputs need q_num_heads and kv_num_heads")
            }
            (qHeads, kvHeads, qSeq, kvSeq) = (.fixed(qn), .fixed(kvn), q[1], k[1])
            headSize = try split(q[2], qn, "Q", q, &ctx)
            vHeadSize = try split(v[2], kvn, "V", v, &ctx)
        }
        var total = kvSeq
        if let past = ctx.shape(4) {
            guard past.rank == 4 else { throw ctx.mismatch("past_key \(past) must be [B, kv_heads, past_S, head_size]") }
            if case .fixed(let a) = past[2], case .fixed(let b) = kvSeq { total = .fixed(a + b) } else { total = ctx.unknown() }
        }
        let y =
            q.rank == 4
            ? Shape([batch, qHeads, qSeq, vHeadSize])
            : Shape([batch, qSeq, vHeadSize.value.flatMap { v in qHeads.value.map { .fixed(v * $0) } } ?? ctx.unknown()])
        return [
            TensorType(et, y), TensorType(et, Shape([batch, kvHeads, total, headSize])),
            TensorType(et, Shape([batch, kvHeads, total, vHeadSize])), TensorType(et, Shape([batch, qHeads, qSeq, total])),
        ]
    }

    /// hidden / heads for a 3-D attention input.
    private static func split(_ hidden: Dimension, _ heads: Int, _ name: String, _ shape: Shape, _ ctx: inout InferenceContext) throws
        -> Dimension
    {
        guard case .fixed(let h) = hidden else { return ctx.unknown() }
        guard h % heads == 0 else { throw ctx.mismatch("\(name) \(shape) hidden size \(h) is not divisible by \(heads) heads") }
        return .fixed(h / heads)
    }
}
