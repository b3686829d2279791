import Foundation
import ModelIR

/// BatchNormalization (inference), InstanceNormalization, LayerNormalization. Statistics and
/// affine parameters that are constants are folded at plan time into one scale and shift per
/// channel.
extension OpRegistry {
    mutating func registerNormalization() {
        register("BatchNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            guard ctx.int("training_mode", 0) == 0 else {
                throw ctx.fail("training_mode = 1 is not supported: the runtime does inference only; re-export in eval mode", .trainingMode)
            }
            guard x.rank >= 2 else { throw ctx.fail("input \(x.shape) must have a channel axis (rank ≥ 2)") }
            let c = x.shape[1]
            let eps = Double(ctx.float("epsilon", 1e-5))
            var params: [[Float]] = []
            for (i, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "var")] {
                let t = try ctx.requireConstant(i, what)
                guard let f = t.floats, f.count == c else {
                    throw ctx.fail(
                        "\(what) must be float32 with \(c) values (one per channel), got \(t.elementType)\(t.shape)",
                        t.elementType == .float32 ? .invalid : .unsupportedElementType(t.elementType))
                }
                params.append(f)
            }
            // In Double, rounded once, like the BN-folding pass.
            var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
            for i in 0..<c {
                let s = Double(params[0][i]) / (Double(params[3][i]) + eps).squareRoot()
                scale[i] = Float(s)
                shift[i] = Float(Double(params[1][i]) - Double(params[2][i]) * s)
            }
            let sp = ctx.pool.storeFloats(scale), hp = ctx.pool.storeFloats(shift)
            let inner = x.shape[2...].reduce(1, *)
            return .kernel(outputs: [x], workspaceBytes: 0) { b in
                ChannelAffineKernel(
                    input: b.input(0), output: b.outputs[0], outer: x.shape[0], channels: c, inner: inner,
                    scale: sp, shift: hp)
            }
        }
        register("InstanceNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            guard x.rank >= 3 else { throw ctx.fail("input \(x.shape) must be N×C×spatial") }
            let c = x.shape[1]
            let s = try ctx.requireConstant(1, "scale"), bias = try ctx.requireConstant(2, "B")
            guard let sf = s.floats, let bf = bias.floats, sf.count == c, bf.count == c else {
                throw ctx.fail(
                    "scale and B must be float32 with \(c) values",
                    [s, bias].first { $0.elementType != .float32 }.map { .unsupportedElementType($0.elementType) } ?? .invalid)
            }
            let eps = ctx.float("epsilon", 1e-5)
            let sp = ctx.pool.storeFloats(sf), bp = ctx.pool.storeFloats(bf)
            let inner = x.shape[2...].reduce(1, *)
            return .kernel(outputs: [x], workspaceBytes: 0) { b in
                NormalizeKernel(
                    input: b.input(0), output: b.outputs[0], rows: x.shape[0] * c, length: inner, epsilon: eps,
                    scale: sp, shift: bp, paramPeriod: c, perRowParams: true)
            }
        }
        register("LayerNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            let axis = try ctx.axis(ctx.int("axis", -1), rank: x.rank)
            let length = x.shape[axis...].reduce(1, *)
            let rows = x.shape[..<axis].reduce(1, *)
            let normShape = Array(x.shape[axis...])
            func param(_ i: Int, _ what: String, _ def: Float) throws -> [Float] {
                guard ctx.has(i) else { return [Float](repeating: def, count: length) }
                let t = try ctx.requireConstant(i, what)
                guard let f = t.floats, let bs = broadcastShapes([t.shape, normShape]), bs == normShape else {
                    throw ctx.fail(
                        "\(what) \(t.shape) must be float32 and broadcast to \(normShape)",
                        t.elementType == .float32 ? .invalid : .unsupportedElementType(t.elementType))
                }
                let strides = broadcastStrides(t.shape, to: normShape)
                var out: [Float] = []
                forEachIndex(normShape) { idx in out.append(f[zip(idx, strides).reduce(0) { $0 + $1.0 * $1.1 }]) }
                return out
            }
            let sp = ctx.pool.storeFloats(try param(1, "scale", 1)), bp = ctx.pool.storeFloats(try param(2, "B", 0))
            let eps = ctx.float("epsilon", 1e-5)
            // Mean and InvStdDev (shape [d0 … d(axis-1), 1 …]) are planned only when named.
            let stats = ValueType(.float32, Array(x.shape[..<axis]) + [Int](repeating: 1, count: x.rank - axis))
            let outputs = ctx.wantsOutput(1) || ctx.wantsOutput(2) ? [x, stats, stats] : [x]
            return .kernel(outputs: outputs, workspaceBytes: 0) { b in
                NormalizeKernel(
                    input: b.input(0), output: b.outputs[0], rows: rows, length: length, epsilon: eps,
                    scale: sp, shift: bp, paramPeriod: length, perRowParams: false,
                    mean: b.outputs.count > 1 ? b.outputs[1] : nil, invStdDev: b.outputs.count > 2 ? b.outputs[2] : nil)
            }
        }
    }
}

/// y = x·scale[c] + shift[c] over [outer, C, inner].
final class ChannelAffineKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants; pointers into the constant pool.
    let input, output: Buffer
    let outer, channels, inner: Int
    let scale, shift: UnsafeMutablePointer<Float>

    init(
        input: Buffer, output: Buffer, outer: Int, channels: Int, inner: Int, scale: UnsafeMutablePointer<Float>,
        shift: UnsafeMutablePointer<Float>
    ) {
        self.input = input
        self.output = output
        self.outer = outer
        self.channels = channels
        self.inner = inner
        self.scale = scale
        self.shift = shift
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        for n in 0..<outer {
            for c in 0..<channels {
                let base = (n * channels + c) * inner
                let (s, h) = (scale[c], shift[c])
                for i in 0..<inner { y[base + i] = x[base + i] * s + h }
            }
        }
    }
}

/// Normalizes each contiguous row to zero mean and unit variance, then applies scale/shift:
/// per row index modulo `paramPeriod` (InstanceNorm: one pair per channel) or per element
/// (LayerNorm).
final class NormalizeKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants; pointers into the constant pool.
    let input, output: Buffer
    let rows, length: Int
    let epsilon: Float
    let scale, shift: UnsafeMutablePointer<Float>
    let paramPeriod: Int
    let perRowParams: Bool
    /// LayerNormalization's optional per-row statistics outputs.
    let mean, invStdDev: Buffer?
    /// false: RMS normalization (no mean subtracted; the "variance" is the mean square).
    let centered: Bool
    /// Per-element parameters repeat every `paramRows` rows (LayerNorm 1, GroupNorm: groups).
    let paramRows: Int

    init(
        input: Buffer, output: Buffer, rows: Int, length: Int, epsilon: Float, scale: UnsafeMutablePointer<Float>,
        shift: UnsafeMutablePointer<Float>, paramPeriod: Int, perRowParams: Bool, mean: Buffer? = nil, invStdDev: Buffer? = nil,
        centered: Bool = true, paramRows: Int = 1
    ) {
        self.centered = centered
        self.paramRows = Swift.max(paramRows, 1)
        self.mean = mean
        self.invStdDev = invStdDev
        self.input = input
        self.output = output
        self.rows = rows
        self.length = length
        self.epsilon = epsilon
        self.scale = scale
        self.shift = shift
        self.paramPeriod = paramPeriod
        self.perRowParams = perRowParams
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        let meanOut = mean.map { memory.floats($0) }, invOut = invStdDev.map { memory.floats($0) }
        guard length > 0 else { return }
        for r in 0..<rows {
            let row = x + r * length, out = y + r * length
            var mean: Double = 0
            for i in 0..<length { mean += Double(row[i]) }
            mean = centered ? mean / Double(length) : 0
            var variance: Double = 0
            for i in 0..<length {
                let d = Double(row[i]) - mean
                variance += d * d
            }
            variance /= Double(length)
            let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
            let m = Float(mean)
            meanOut?[r] = m
            invOut?[r] = inv
            if perRowParams {
                let c = r % paramPeriod
                for i in 0..<length { out[i] = (row[i] - m) * inv * scale[c] + shift[c] }
            } else {
                let (s, h) = (scale + (r % paramRows) * length, shift + (r % paramRows) * length)
                for i in 0..<length { out[i] = (row[i] - m) * inv * s[i] + h[i] }
            }
        }
    }
}
