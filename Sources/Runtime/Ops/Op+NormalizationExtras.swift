import Foundation
import ModelIR

/// RMSNormalization, GroupNormalization, LpNormalization and MeanVarianceNormalization.
/// Statistics accumulate in Double, like LayerNormalization's.
extension OpRegistry {
    mutating func registerNormalizationExtras() {
        register("RMSNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            let axis = try ctx.axis(ctx.int("axis", -1), rank: x.rank)
            let normShape = Array(x.shape[axis...])
            let length = normShape.reduce(1, *), rows = x.shape[..<axis].reduce(1, *)
            let sp = ctx.pool.storeFloats(try expandedParam(ctx, 1, "scale", 1, to: normShape))
            let zero = ctx.pool.storeFloats([Float](repeating: 0, count: length))
            let eps = ctx.float("epsilon", 1e-5)
            return .kernel(outputs: [x], workspaceBytes: 0) { b in
                NormalizeKernel(
                    input: b.input(0), output: b.outputs[0], rows: rows, length: length, epsilon: eps, scale: sp, shift: zero,
                    paramPeriod: length, perRowParams: false, centered: false)
            }
        }
        register("GroupNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            let groups = ctx.int("num_groups", 0)
            guard x.rank >= 2, groups > 0, x.shape[1] % groups == 0 else {
                throw ctx.fail("input \(x.shape) needs a channel axis divisible by num_groups \(groups)")
            }
            let c = x.shape[1], perGroup = c / groups, inner = x.shape[2...].reduce(1, *)
            // Scale and bias are per channel (opset 21) or per group (opset 18); expanded to
            // one value per element of a group's row so the row kernel indexes them directly.
            func param(_ i: Int, _ what: String) throws -> [Float] {
                let t = try ctx.requireConstant(i, what)
                guard let f = t.floats, f.count == c || f.count == groups else {
                    throw ctx.fail(
                        "\(what) must be float32 with \(c) (per channel) or \(groups) (per group) values, got \(t.elementType)\(t.shape)",
                        t.elementType == .float32 ? .invalid : .unsupportedElementType(t.elementType))
                }
                var out: [Float] = []
                out.reserveCapacity(c * inner)
                for ch in 0..<c {
                    let v = f.count == c ? f[ch] : f[ch / perGroup]
                    out += [Float](repeating: v, count: inner)
                }
                return out
            }
            guard c * inner <= 1 << 26 else { throw ctx.fail("the expanded scale would hold \(c * inner) values") }
            let sp = ctx.pool.storeFloats(try param(1, "scale")), bp = ctx.pool.storeFloats(try param(2, "bias"))
            let eps = ctx.float("epsilon", 1e-5)
            return .kernel(outputs: [x], workspaceBytes: 0) { b in
                NormalizeKernel(
                    input: b.input(0), output: b.outputs[0], rows: x.shape[0] * groups, length: perGroup * inner, epsilon: eps,
                    scale: sp, shift: bp, paramPeriod: perGroup * inner, perRowParams: false, paramRows: groups)
            }
        }
        register("LpNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            let axis = try ctx.axis(ctx.int("axis", -1), rank: x.rank)
            let p = ctx.int("p", 2)
            guard p == 1 || p == 2 else { throw ctx.fail("p must be 1 or 2, got \(p)") }
            return .kernel(outputs: [x], workspaceBytes: 0) { b in
                LpNormalizeKernel(
                    input: b.input(0), output: b.outputs[0], outer: x.shape[..<axis].reduce(1, *), length: x.shape[axis],
                    inner: x.shape[(axis + 1)...].reduce(1, *), p: p)
            }
        }
        register("MeanVarianceNormalization") { ctx in
            let x = try ctx.input(0, floatOnly)
            let axes = try Set((ctx.ints("axes") ?? [0, 2, 3]).map { try ctx.axis($0, rank: x.rank) })
            let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            let keptCount = kept.reduce(1, *)
            let loop = BroadcastLoop(output: x.shape, inputs: [kept])
            return .kernel(outputs: [x], workspaceBytes: keptCount * 16) { b in
                MeanVarianceKernel(
                    input: b.input(0), output: b.outputs[0], workspace: b.workspace, loop: loop, keptCount: keptCount,
                    reduced: keptCount > 0 ? x.elementCount / keptCount : 0)
            }
        }
    }
}

/// A constant parameter broadcast to `shape`, flattened (absent: `def` everywhere).
func expandedParam(_ ctx: NodePlanContext, _ i: Int, _ what: String, _ def: Float, to shape: [Int]) throws -> [Float] {
    let count = shape.reduce(1, *)
    guard ctx.has(i) else { return [Float](repeating: def, count: count) }
    let t = try ctx.requireConstant(i, what)
    guard let f = t.floats, let bs = broadcastShapes([t.shape, shape]), bs == shape else {
        throw ctx.fail(
            "\(what) \(t.shape) must be float32 and broadcast to \(shape)",
            t.elementType == .float32 ? .invalid : .unsupportedElementType(t.elementType))
    }
    let strides = broadcastStrides(t.shape, to: shape)
    var out: [Float] = []
    out.reserveCapacity(count)
    forEachIndex(shape) { idx in out.append(f[zip(idx, strides).reduce(0) { $0 + $1.0 * $1.1 }]) }
    return out
}

/// y = x / ‖x‖ₚ along one axis.
final class LpNormalizeKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let outer, length, inner, p: Int

    init(input: Buffer, output: Buffer, outer: Int, length: Int, inner: Int, p: Int) {
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
        self.p = p
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var norm: Double = 0
                for k in 0..<length {
                    let v = Double(x[base + k * inner])
                    norm += p == 1 ? Swift.abs(v) : v * v
                }
                // A zero vector stays zero (ONNX's reference), not 0/0.
                let n = Float(p == 1 ? norm : norm.squareRoot())
                for k in 0..<length { y[base + k * inner] = n == 0 ? 0 : x[base + k * inner] / n }
            }
        }
    }
}

/// (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over the reduced axes, as ONNX's function body.
final class MeanVarianceKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output, workspace: Buffer
    let loop: BroadcastLoop
    let keptCount, reduced: Int

    init(input: Buffer, output: Buffer, workspace: Buffer, loop: BroadcastLoop, keptCount: Int, reduced: Int) {
        self.input = input
        self.output = output
        self.workspace = workspace
        self.loop = loop
        self.keptCount = keptCount
        self.reduced = reduced
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        let sums = memory.typed(workspace, Double.self), squares = sums + keptCount
        for i in 0..<keptCount {
            sums[i] = 0
            squares[i] = 0
        }
        loop.forEachRow { o, a, _, _, n, sa, _, _ in
            for i in 0..<n {
                let v = Double(x[o + i])
                sums[a + i * sa] += v
                squares[a + i * sa] += v * v
            }
        }
        let count = Double(Swift.max(reduced, 1))
        for i in 0..<keptCount {
            let mean = sums[i] / count
            sums[i] = mean
            squares[i] = 1 / (Swift.max(squares[i] / count - mean * mean, 0).squareRoot() + 1e-9)
        }
        loop.forEachRow { o, a, _, _, n, sa, _, _ in
            for i in 0..<n { y[o + i] = Float((Double(x[o + i]) - sums[a + i * sa]) * squares[a + i * sa]) }
        }
    }
}
