import CKernels
import TestSupport

/// Seeded data of one depthwise problem on a geometry, shared by the NCHW and NHWC depthwise
/// tests. Case index `i` walks the edge cases: all-0 / all-255 inputs (every `edges` cases),
/// ±127 weights, no bias, shifts < 2 (multipliers ≥ 1: the 64-bit requant form), s8 and u8 in
/// and out, extreme zero points, narrowed clamps (fused Relu ranges), per-tensor requant.
struct Q8DepthwiseData {
    var input: [UInt8], weights: [Int8], bias: [Int32]?
    var multiplier: [Int32], shift: [Int32], perChannel: Bool
    var xType: flotilla_q8_type, xZero: Int32
    var yType: flotilla_q8_type, yZero: Int32, qmin: Int32, qmax: Int32

    static func random(_ i: Int, _ g: flotilla_f32_conv2d_geometry, edges: Int, using rng: inout SplitMix64) -> Self {
        let taps = g.kernel_h * g.kernel_w
        let edge = i % edges
        let input = (0..<(g.channels * g.in_h * g.in_w)).map { _ in
            edge == 0 ? 0 : edge == 1 ? 255 : UInt8.random(in: 0...255, using: &rng)
        }
        let weights = (0..<(g.channels * taps)).map { _ in
            i % 7 == 0 ? (Bool.random(using: &rng) ? 127 : -127) : Int8.random(in: -127...127, using: &rng)
        }
        let bias: [Int32]? = i % 3 == 0 ? nil : (0..<g.channels).map { _ in Int32.random(in: -(1 << 22)...(1 << 22), using: &rng) }
        var multiplier: [Int32] = [], shift: [Int32] = []
        for _ in 0..<g.channels {
            var m: Int32 = 0, s: Int32 = 0
            let real = i % 4 == 0 ? Double.random(in: 1...100, using: &rng) : Double.random(in: 1e-5...0.05, using: &rng)
            _ = flotilla_q8_quantize_multiplier(real, &m, &s)
            multiplier.append(m)
            shift.append(s)
        }
        let xType = i % 2 == 0 ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        let extremeZero = i % 3 == 1
        let xZero: Int32 =
            xType == FLOTILLA_Q8_U8
            ? (extremeZero ? (Bool.random(using: &rng) ? 0 : 255) : Int32.random(in: 0...255, using: &rng))
            : (extremeZero ? (Bool.random(using: &rng) ? -128 : 127) : Int32.random(in: -128...127, using: &rng))
        let yType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        let (tmin, tmax): (Int32, Int32) = yType == FLOTILLA_Q8_U8 ? (0, 255) : (-128, 127)
        var qmin = tmin, qmax = tmax
        if i % 3 == 2 {
            qmin = Int32.random(in: tmin...tmax, using: &rng)
            qmax = Int32.random(in: qmin...tmax, using: &rng)
        }
        return Q8DepthwiseData(
            input: input, weights: weights, bias: bias, multiplier: multiplier, shift: shift, perChannel: i % 4 != 3,
            xType: xType, xZero: xZero, yType: yType, yZero: Int32.random(in: tmin...tmax, using: &rng), qmin: qmin, qmax: qmax)
    }
}
