import Foundation
import ModelIR

/// Broadcasting binary ops (Add, Sub, Mul, Div, Pow, Min, Max — variadic — comparisons, PRelu,
/// Where). Integer arithmetic wraps; integer division by zero yields 0 instead of trapping.
extension OpRegistry {
    mutating func registerBinary() {
        register("Add") { ctx in try planArithmetic(ctx, f: { $0 + $1 }, i64: { $0 &+ $1 }, i32: { $0 &+ $1 }) }
        register("Sub") { ctx in try planArithmetic(ctx, f: { $0 - $1 }, i64: { $0 &- $1 }, i32: { $0 &- $1 }) }
        register("Mul") { ctx in try planArithmetic(ctx, f: { $0 * $1 }, i64: { $0 &* $1 }, i32: { $0 &* $1 }) }
        register("Div") { ctx in try planArithmetic(ctx, f: { $0 / $1 }, i64: intDiv, i32: intDiv) }
        register("Pow") { ctx in
            if let a = ctx.inputTypes.first ?? nil, ctx.inputTypes.count > 1, let b = ctx.inputTypes[1], a.elementType != b.elementType {
                return try planMixedPow(ctx)
            }
            return try planArithmetic(ctx, f: { Foundation.pow($0, $1) }, i64: intPow, i32: intPow)
        }
        register("Min") { ctx in try planVariadic(ctx, f: { Swift.min($0, $1) }, i64: { Swift.min($0, $1) }, i32: { Swift.min($0, $1) }) }
        register("Max") { ctx in try planVariadic(ctx, f: { Swift.max($0, $1) }, i64: { Swift.max($0, $1) }, i32: { Swift.max($0, $1) }) }
        register("Sum") { ctx in try planVariadic(ctx, f: { $0 + $1 }, i64: { $0 &+ $1 }, i32: { $0 &+ $1 }) }
        register("Mean") { ctx in
            _ = try ctx.input(0, floatOnly)
            guard case .kernel(let outs, let ws, let make) = try planVariadic(ctx, f: { $0 + $1 }, i64: { $0 &+ $1 }, i32: { $0 &+ $1 })
            else { throw ctx.fail("Mean did not plan a kernel") }
            let n = Float(ctx.inputCount), count = outs[0].elementCount
            return .kernel(outputs: outs, workspaceBytes: ws) { b in
                ScaleOutputKernel(inner: try make(b), output: b.outputs[0], count: count, divisor: n)
            }
        }
        register("Equal") { ctx in try planCompare(ctx, f: { $0 == $1 }, i64: { $0 == $1 }, i32: { $0 == $1 }, b: { $0 == $1 }) }
        register("Greater") { ctx in try planCompare(ctx, f: { $0 > $1 }, i64: { $0 > $1 }, i32: { $0 > $1 }, b: nil) }
        register("Less") { ctx in try planCompare(ctx, f: { $0 < $1 }, i64: { $0 < $1 }, i32: { $0 < $1 }, b: nil) }
        register("GreaterOrEqual") { ctx in try planCompare(ctx, f: { $0 >= $1 }, i64: { $0 >= $1 }, i32: { $0 >= $1 }, b: nil) }
        register("LessOrEqual") { ctx in try planCompare(ctx, f: { $0 <= $1 }, i64: { $0 <= $1 }, i32: { $0 <= $1 }, b: nil) }
        register("And") { ctx in try planCompare(ctx, f: nil, i64: nil, i32: nil, b: { $0 != 0 && $1 != 0 }) }
        register("Or") { ctx in try planCompare(ctx, f: nil, i64: nil, i32: nil, b: { $0 != 0 || $1 != 0 }) }
        register("Xor") { ctx in try planCompare(ctx, f: nil, i64: nil, i32: nil, b: { ($0 != 0) != ($1 != 0) }) }
        register("PRelu") { ctx in
            let x = try ctx.input(0, floatOnly), slope = try ctx.input(1, floatOnly)
            guard let out = broadcastShapes([x.shape, slope.shape]), out == x.shape else {
                throw ctx.fail("slope \(slope.shape) must broadcast to the input \(x.shape)")
            }
            return binaryKernel(ctx, Float.self, Float.self, out, { $0 < 0 ? $0 * $1 : $0 })
        }
        register("Where") { ctx in
            let c = try ctx.input(0, [.bool]), x = try ctx.input(1), y = try ctx.input(2)
            guard x.elementType == y.elementType, let size = x.elementType.byteSize else {
                throw ctx.fail("X is \(x.elementType) and Y is \(y.elementType); they must have the same (non-string) type")
            }
            guard let out = broadcastShapes([c.shape, x.shape, y.shape]) else {
                throw ctx.fail("condition \(c.shape), X \(x.shape) and Y \(y.shape) do not broadcast")
            }
            let loop = BroadcastLoop(output: out, inputs: [c.shape, x.shape, y.shape])
            return .kernel(outputs: [ValueType(x.elementType, out)], workspaceBytes: 0) { b in
                WhereKernel(loop: loop, size: size, cond: b.input(0), x: b.input(1), y: b.input(2), output: b.outputs[0])
            }
        }
    }
}

@Sendable func intDiv<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
    guard b != 0 else { return 0 }
    let (q, overflow) = a.dividedReportingOverflow(by: b)
    return overflow ? a : q
}

@Sendable func intPow<T: FixedWidthInteger>(_ base: T, _ exp: T) -> T {
    guard exp >= 0 else { return base == 1 ? 1 : (base == -1 ? (exp % 2 == 0 ? 1 : -1) : 0) }
    var result: T = 1, b = base, e = exp
    while e > 0 {
        if e & 1 == 1 { result = result &* b }
        b = b &* b
        e >>= 1
    }
    return result
}

private func operands(_ ctx: NodePlanContext) throws -> (ValueType, ValueType, [Int]) {
    let a = try ctx.input(0), b = try ctx.input(1)
    guard a.elementType == b.elementType else {
        throw ctx.fail("inputs are \(a.elementType) and \(b.elementType); both must have the same type (insert a Cast)")
    }
    guard let out = broadcastShapes([a.shape, b.shape]) else {
        throw ctx.fail("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    return (a, b, out)
}

private func planArithmetic(
    _ ctx: NodePlanContext, f: @escaping @Sendable (Float, Float) -> Float,
    i64: @escaping @Sendable (Int64, Int64) -> Int64,
    i32: @escaping @Sendable (Int32, Int32) -> Int32
) throws -> PlannedOp {
    let (a, _, out) = try operands(ctx)
    switch a.elementType {
    case .float32:
        // The four arithmetic ops get a closure-free kernel whose unit-stride rows vectorize.
        if let op = FloatArithmetic(rawValue: ctx.node.opType), let a = ctx.inputTypes[0], let b = ctx.inputTypes[1] {
            let loop = BroadcastLoop(output: out, inputs: [a.shape, b.shape])
            return .kernel(outputs: [ValueType(.float32, out)], workspaceBytes: 0) { bufs in
                FloatArithmeticKernel(loop: loop, op: op, a: bufs.input(0), b: bufs.input(1), output: bufs.outputs[0])
            }
        }
        return binaryKernel(ctx, Float.self, Float.self, out, f)
    case .int64: return binaryKernel(ctx, Int64.self, Int64.self, out, i64)
    case .int32: return binaryKernel(ctx, Int32.self, Int32.self, out, i32)
    default:
        throw ctx.fail("\(a.elementType) is not supported; this op runs on float32, int64, int32", .unsupportedElementType(a.elementType))
    }
}

private func planCompare(
    _ ctx: NodePlanContext, f: (@Sendable (Float, Float) -> Bool)?,
    i64: (@Sendable (Int64, Int64) -> Bool)?, i32: (@Sendable (Int32, Int32) -> Bool)?,
    b: (@Sendable (UInt8, UInt8) -> Bool)?
) throws -> PlannedOp {
    let (a, _, out) = try operands(ctx)
    switch a.elementType {
    case .float32: if let f { return binaryKernel(ctx, Float.self, Bool.self, out, f) }
    case .int64: if let i64 { return binaryKernel(ctx, Int64.self, Bool.self, out, i64) }
    case .int32: if let i32 { return binaryKernel(ctx, Int32.self, Bool.self, out, i32) }
    case .bool: if let b { return binaryKernel(ctx, UInt8.self, Bool.self, out, b) }
    default: break
    }
    throw ctx.fail("\(a.elementType) inputs are not supported by this op", .unsupportedElementType(a.elementType))
}

/// Min/Max over any number of inputs: the output starts as input 0 broadcast, then each further
/// input is combined into it.
private func planVariadic(
    _ ctx: NodePlanContext, f: @escaping @Sendable (Float, Float) -> Float,
    i64: @escaping @Sendable (Int64, Int64) -> Int64,
    i32: @escaping @Sendable (Int32, Int32) -> Int32
) throws -> PlannedOp {
    let types = try (0..<ctx.inputCount).map { try ctx.input($0) }
    guard let first = types.first else { throw ctx.fail("needs at least one input") }
    guard types.allSatisfy({ $0.elementType == first.elementType }) else {
        throw ctx.fail("inputs have types \(types.map(\.elementType)); all must match")
    }
    guard let out = broadcastShapes(types.map(\.shape)) else {
        throw ctx.fail("shapes \(types.map(\.shape)) do not broadcast")
    }
    func make<T>(_: T.Type, _ op: @escaping @Sendable (T, T) -> T) -> PlannedOp {
        let loops = types.map { BroadcastLoop(output: out, inputs: [out, $0.shape]) }
        let copy = BroadcastLoop(output: out, inputs: [first.shape])
        return .kernel(outputs: [ValueType(first.elementType, out)], workspaceBytes: 0) { b in
            VariadicKernel<T>(copy: copy, loops: loops, inputs: (0..<types.count).map { b.input($0) }, output: b.outputs[0], op: op)
        }
    }
    switch first.elementType {
    case .float32: return make(Float.self, f)
    case .int64: return make(Int64.self, i64)
    case .int32: return make(Int32.self, i32)
    default:
        throw ctx.fail(
            "\(first.elementType) is not supported; this op runs on float32, int64, int32", .unsupportedElementType(first.elementType))
    }
}

func binaryKernel<T, R>(_ ctx: NodePlanContext, _: T.Type, _: R.Type, _ out: [Int], _ op: @escaping @Sendable (T, T) -> R) -> PlannedOp {
    let a = ctx.inputTypes[0]?.shape ?? [], b = ctx.inputTypes[1]?.shape ?? []
    let loop = BroadcastLoop(output: out, inputs: [a, b])
    let outType: ElementType = R.self == Bool.self ? .bool : (ctx.inputTypes[0]?.elementType ?? .float32)
    return .kernel(outputs: [ValueType(outType, out)], workspaceBytes: 0) { bufs in
        BinaryKernel<T, R>(loop: loop, a: bufs.input(0), b: bufs.input(1), output: bufs.outputs[0], op: op)
    }
}

final class BinaryKernel<T, R>: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only (the op closure is @Sendable).
    let loop: BroadcastLoop
    let a, b, output: Buffer
    let op: @Sendable (T, T) -> R

    init(loop: BroadcastLoop, a: Buffer, b: Buffer, output: Buffer, op: @escaping @Sendable (T, T) -> R) {
        self.loop = loop
        self.a = a
        self.b = b
        self.output = output
        self.op = op
    }

    func execute(_ memory: Memory) throws {
        let pa = memory.typed(a, T.self), pb = memory.typed(b, T.self), po = memory.typed(output, R.self)
        let op = self.op
        loop.forEachRow { o, ia, ib, _, n, sa, sb, _ in
            for i in 0..<n { po[o + i] = op(pa[ia + i * sa], pb[ib + i * sb]) }
        }
    }
}

final class VariadicKernel<T>: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let copy: BroadcastLoop
    let loops: [BroadcastLoop]
    let inputs: [Buffer]
    let output: Buffer
    let op: @Sendable (T, T) -> T

    init(copy: BroadcastLoop, loops: [BroadcastLoop], inputs: [Buffer], output: Buffer, op: @escaping @Sendable (T, T) -> T) {
        self.copy = copy
        self.loops = loops
        self.inputs = inputs
        self.output = output
        self.op = op
    }

    func execute(_ memory: Memory) throws {
        let po = memory.typed(output, T.self)
        let p0 = memory.typed(inputs[0], T.self)
        copy.forEachRow { o, ia, _, _, n, sa, _, _ in
            for i in 0..<n { po[o + i] = p0[ia + i * sa] }
        }
        let op = self.op
        for k in 1..<max(inputs.count, 1) where k < inputs.count {
            let pk = memory.typed(inputs[k], T.self)
            loops[k].forEachRow { o, _, ib, _, n, _, sb, _ in
                for i in 0..<n { po[o + i] = op(po[o + i], pk[ib + i * sb]) }
            }
        }
    }
}

final class WhereKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let loop: BroadcastLoop
    let size: Int
    let cond, x, y, output: Buffer

    init(loop: BroadcastLoop, size: Int, cond: Buffer, x: Buffer, y: Buffer, output: Buffer) {
        self.loop = loop
        self.size = size
        self.cond = cond
        self.x = x
        self.y = y
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        let pc = memory.typed(cond, UInt8.self)
        let px = memory.raw(x), py = memory.raw(y), po = memory.raw(output)
        let size = self.size
        loop.forEachRow { o, ic, ix, iy, n, sc, sx, sy in
            for i in 0..<n {
                let src = pc[ic + i * sc] != 0 ? px + (ix + i * sx) * size : py + (iy + i * sy) * size
                (po + (o + i) * size).copyMemory(from: src, byteCount: size)
            }
        }
    }
}

enum FloatArithmetic: String, Sendable { case add = "Add", sub = "Sub", mul = "Mul", div = "Div" }

/// Float Add/Sub/Mul/Div without a per-element closure call: the op is switched per row and
/// rows with unit or zero strides (same shape, scalar, per-channel) run as plain loops.
final class FloatArithmeticKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let loop: BroadcastLoop
    let op: FloatArithmetic
    let a, b, output: Buffer

    init(loop: BroadcastLoop, op: FloatArithmetic, a: Buffer, b: Buffer, output: Buffer) {
        self.loop = loop
        self.op = op
        self.a = a
        self.b = b
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        let pa = memory.floats(a), pb = memory.floats(b), po = memory.floats(output)
        let op = self.op
        loop.forEachRow { o, ia, ib, _, n, sa, sb, _ in
            let x = pa + ia, y = pb + ib, z = po + o
            switch (op, sa, sb) {
            case (.add, 1, 1): for i in 0..<n { z[i] = x[i] + y[i] }
            case (.add, 1, 0):
                let v = y[0]
                for i in 0..<n { z[i] = x[i] + v }
            case (.add, 0, 1):
                let v = x[0]
                for i in 0..<n { z[i] = v + y[i] }
            case (.sub, 1, 1): for i in 0..<n { z[i] = x[i] - y[i] }
            case (.sub, 1, 0):
                let v = y[0]
                for i in 0..<n { z[i] = x[i] - v }
            case (.mul, 1, 1): for i in 0..<n { z[i] = x[i] * y[i] }
            case (.mul, 1, 0):
                let v = y[0]
                for i in 0..<n { z[i] = x[i] * v }
            case (.mul, 0, 1):
                let v = x[0]
                for i in 0..<n { z[i] = v * y[i] }
            case (.div, 1, 1): for i in 0..<n { z[i] = x[i] / y[i] }
            case (.div, 1, 0):
                let v = y[0]
                for i in 0..<n { z[i] = x[i] / v }
            default:
                for i in 0..<n {
                    let (u, w) = (x[i * sa], y[i * sb])
                    switch op {
                    case .add: z[i] = u + w
                    case .sub: z[i] = u - w
                    case .mul: z[i] = u * w
                    case .div: z[i] = u / w
                    }
                }
            }
        }
    }
}

/// Runs `inner`, then divides its float output by `divisor` (Mean = Sum / n).
final class ScaleOutputKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants and an immutable inner kernel.
    let inner: any Kernel
    let output: Buffer
    let count: Int
    let divisor: Float

    init(inner: any Kernel, output: Buffer, count: Int, divisor: Float) {
        self.inner = inner
        self.output = output
        self.count = count
        self.divisor = divisor
    }

    func execute(_ memory: Memory) throws {
        try inner.execute(memory)
        let y = memory.floats(output)
        for i in 0..<count { y[i] /= divisor }
    }
}
