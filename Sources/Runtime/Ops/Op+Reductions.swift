import Foundation
import ModelIR

/// ReduceMean/Sum/Max/Min/Prod/SumSquare/L1/L2/LogSum/LogSumExp with the canonical `axes` input,
/// `keepdims` and `noop_with_empty_axes`. One pass over the input accumulates into the output
/// (read with stride 0 along reduced axes); Mean/L2/LogSumExp finish per output element.
extension OpRegistry {
    mutating func registerReductions() {
        for (op, kind) in [
            ("ReduceMean", ReduceKind.mean), ("ReduceSum", .sum), ("ReduceMax", .max), ("ReduceMin", .min),
            ("ReduceProd", .prod), ("ReduceSumSquare", .sumSquare), ("ReduceL1", .l1), ("ReduceL2", .l2),
            ("ReduceLogSumExp", .logSumExp), ("ReduceLogSum", .logSum),
        ] {
            register(op) { ctx in try planReduce(ctx, kind) }
        }
    }
}

enum ReduceKind: Sendable { case mean, sum, max, min, prod, sumSquare, l1, l2, logSumExp, logSum }

private func planReduce(_ ctx: NodePlanContext, _ kind: ReduceKind) throws -> PlannedOp {
    let x = try ctx.input(0, numeric)
    let axesIn = try ctx.optionalInts(1, "axes") ?? ctx.ints("axes") ?? []
    let noop = ctx.int("noop_with_empty_axes", 0) != 0
    if axesIn.isEmpty && noop { return copyOp(ctx, shape: x.shape) }
    let axes = axesIn.isEmpty ? Set(0..<x.rank) : try Set(axesIn.map { try ctx.axis($0, rank: x.rank) })
    let keep = ctx.int("keepdims", 1) != 0
    let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    let outShape = keep ? kept : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    let reduced = axes.reduce(1) { $0 * x.shape[$1] }
    // An empty reduction yields the identity (ONNX 18): -inf / +inf for Max / Min, the type's
    // lowest / highest value for integers, 0 for sums, 1 for products; Mean is then 0/0 = NaN.
    let loop = BroadcastLoop(output: x.shape, inputs: [kept])
    let outCount = kept.reduce(1, *)
    switch x.elementType {
    case .float32:
        return .kernel(outputs: [ValueType(.float32, outShape)], workspaceBytes: kind == .logSumExp ? outCount * 4 : 0) { b in
            ReduceKernel(
                input: b.input(0), output: b.outputs[0], workspace: b.workspace, loop: loop, outCount: outCount, reduced: reduced,
                kind: kind)
        }
    default:
        guard [.sum, .max, .min, .prod].contains(kind) else {
            throw ctx.fail("this reduction runs on float32 only", .unsupportedElementType(x.elementType))
        }
        let wide = x.elementType == .int64
        return .kernel(outputs: [ValueType(x.elementType, outShape)], workspaceBytes: 0) { b in
            IntReduceKernel(input: b.input(0), output: b.outputs[0], loop: loop, outCount: outCount, kind: kind, wide: wide)
        }
    }
}

final class ReduceKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output, workspace: Buffer
    let loop: BroadcastLoop
    let outCount, reduced: Int
    let kind: ReduceKind

    init(input: Buffer, output: Buffer, workspace: Buffer, loop: BroadcastLoop, outCount: Int, reduced: Int, kind: ReduceKind) {
        self.input = input
        self.workspace = workspace
        self.output = output
        self.loop = loop
        self.outCount = outCount
        self.reduced = reduced
        self.kind = kind
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        let start: Float
        switch kind {
        case .max, .logSumExp: start = -.infinity
        case .min: start = .infinity
        case .prod: start = 1
        default: start = 0
        }
        for i in 0..<outCount { y[i] = start }
        if kind == .logSumExp {
            // Max first, for stability; then Σ exp(x - max) in the workspace; then max + log(Σ).
            let sums = memory.floats(workspace)
            for i in 0..<outCount { sums[i] = 0 }
            loop.forEachRow { o, a, _, _, n, sa, _, _ in for i in 0..<n { y[a + i * sa] = Swift.max(y[a + i * sa], x[o + i]) } }
            loop.forEachRow { o, a, _, _, n, sa, _, _ in
                for i in 0..<n { sums[a + i * sa] += Foundation.exp(x[o + i] - y[a + i * sa]) }
            }
            for i in 0..<outCount { y[i] = y[i].isFinite ? y[i] + Foundation.log(sums[i]) : y[i] }
            return
        }
        let kind = self.kind
        loop.forEachRow { o, a, _, _, n, sa, _, _ in
            for i in 0..<n {
                let v = x[o + i], at = a + i * sa
                switch kind {
                case .sum, .mean, .logSum: y[at] += v
                case .max: if v > y[at] || v.isNaN { y[at] = v }
                case .min: if v < y[at] || v.isNaN { y[at] = v }
                case .prod: y[at] *= v
                case .sumSquare, .l2: y[at] += v * v
                case .l1: y[at] += Swift.abs(v)
                case .logSumExp: break
                }
            }
        }
        switch kind {
        case .mean: for i in 0..<outCount { y[i] /= Float(reduced) }
        case .l2: for i in 0..<outCount { y[i] = y[i].squareRoot() }
        case .logSum: for i in 0..<outCount { y[i] = Foundation.log(y[i]) }
        default: break
        }
    }
}

final class IntReduceKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let loop: BroadcastLoop
    let outCount: Int
    let kind: ReduceKind
    let wide: Bool

    init(input: Buffer, output: Buffer, loop: BroadcastLoop, outCount: Int, kind: ReduceKind, wide: Bool) {
        self.input = input
        self.output = output
        self.loop = loop
        self.outCount = outCount
        self.kind = kind
        self.wide = wide
    }

    func execute(_ memory: Memory) throws {
        if wide { run(memory, Int64.self) } else { run(memory, Int32.self) }
    }

    private func run<T: FixedWidthInteger>(_ memory: Memory, _: T.Type) {
        let x = memory.typed(input, T.self), y = memory.typed(output, T.self)
        let start: T = kind == .max ? .min : (kind == .min ? .max : (kind == .prod ? 1 : 0))
        for i in 0..<outCount { y[i] = start }
        let kind = self.kind
        loop.forEachRow { o, a, _, _, n, sa, _, _ in
            for i in 0..<n {
                let v = x[o + i], at = a + i * sa
                switch kind {
                case .max: y[at] = Swift.max(y[at], v)
                case .min: y[at] = Swift.min(y[at], v)
                case .prod: y[at] = y[at] &* v
                default: y[at] = y[at] &+ v
                }
            }
        }
    }
}
