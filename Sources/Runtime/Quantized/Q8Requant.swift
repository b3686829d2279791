internal import CKernels
import ModelIR

/// Plan-time requantization of int32 accumulators to an 8-bit output (docs/int8-numerics.md):
/// one Q31 multiplier and shift per output channel (or one), the output zero point and the
/// clamp of the output type narrowed by a fused Relu/Clip. Arrays live in the constant pool so
/// kernels can hand C a pointer.
struct Q8Requant: @unchecked Sendable {
    // Sendable proof: the pointers are into the plan's constant pool, written at plan time only.
    let multipliers: UnsafeMutablePointer<Int32>
    let shifts: UnsafeMutablePointer<Int32>
    let channels: Int
    let output: Q8Param
    let qmin, qmax: Int32

    var perChannel: Bool { channels > 1 }

    /// The C struct for output channels starting at `first` (a group's slice).
    func c(from first: Int = 0) -> flotilla_q8_requant {
        let o = perChannel ? first : 0
        return flotilla_q8_requant(multiplier: multipliers + o, shift: shifts + o, per_channel: perChannel,
                                   type: output.cType, zero_point: output.zeroPoint, qmin: qmin, qmax: qmax)
    }

    /// Requantization for real multipliers `m` (s_x·s_w[c]/s_y), one per channel or one.
    static func make(_ ctx: NodePlanContext, multipliers m: [Double], output: Q8Param, activation: Activation?) throws -> Q8Requant {
        let (qmin, qmax) = try q8Clamp(ctx, output: output, activation: activation)
        let mp = ctx.pool.allocate(bytes: m.count * 4).assumingMemoryBound(to: Int32.self)
        let sp = ctx.pool.allocate(bytes: m.count * 4).assumingMemoryBound(to: Int32.self)
        for (c, v) in m.enumerated() {
            var mult: Int32 = 0, shift: Int32 = 0
            try q8Check(ctx, flotilla_q8_quantize_multiplier(v, &mult, &shift),
                        "output channel \(c): the real multiplier \(v) (input scale × weight scale / output scale) cannot be requantized")
            mp[c] = mult
            sp[c] = shift
        }
        let r = Q8Requant(multipliers: mp, shifts: sp, channels: m.count, output: output, qmin: qmin, qmax: qmax)
        var rq = r.c()
        try q8Check(ctx, flotilla_q8_requant_check(&rq, m.count), "requantization")
        return r
    }
}

/// The output clamp [qmin, qmax]: the output type's range, narrowed by a fused Relu or Clip.
/// Other fused activations cannot be a clamp; the QDQ fusion pass never produces them.
func q8Clamp(_ ctx: NodePlanContext, output: Q8Param, activation: Activation?) throws -> (Int32, Int32) {
    var lo = -Double.infinity, hi = Double.infinity
    switch activation {
    case .none: break
    case .relu?: lo = 0
    case .clip(let a, let b)?:
        lo = Double(a)
        hi = Double(b)
    case let other?:
        throw ctx.fail("fused activation \(other) cannot be applied by an int8 op (only Relu and Clip become its output clamp); "
            + "run it as a separate quantized lookup op")
    }
    var qmin: Int32 = 0, qmax: Int32 = 0
    try q8Check(ctx, flotilla_q8_clamp_range(output.cType, output.scale, output.zeroPoint, lo, hi, &qmin, &qmax),
                "the output clamp of \(activation.map { "\($0)" } ?? "the output type")")
    return (qmin, qmax)
}
