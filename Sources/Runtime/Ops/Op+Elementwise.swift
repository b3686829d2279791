import Foundation
import ModelIR

/// Unary elementwise ops. Float math follows `Activation.apply` where the op is also a fusable
/// activation, so fused and unfused graphs compute the same values.
extension OpRegistry {
    mutating func registerElementwise() {
        unary("Relu", f: { Swift.max($0, 0) }, i64: { Swift.max($0, 0) }, i32: { Swift.max($0, 0) })
        unary("Neg", f: { -$0 }, i64: { 0 &- $0 }, i32: { 0 &- $0 })
        unary("Abs", f: { Swift.abs($0) }, i64: { $0 < 0 ? 0 &- $0 : $0 }, i32: { $0 < 0 ? 0 &- $0 : $0 })
        unary("Sign", f: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, i64: { $0.signum() }, i32: { $0.signum() })
        unary("Sqrt") { $0.squareRoot() }
        unary("Exp") { Foundation.exp($0) }
        unary("Log") { Foundation.log($0) }
        unary("Reciprocal") { 1 / $0 }
        unary("Floor") { $0.rounded(.down) }
        unary("Ceil") { $0.rounded(.up) }
        unary("Round") { $0.rounded(.toNearestOrEven) }
        unary("Sigmoid") { Activation.sigmoid.apply($0) }
        unary("Tanh") { Foundation.tanh($0) }
        unary("Erf") { Foundation.erf($0) }
        unary("Sin") { Foundation.sin($0) }
        unary("Cos") { Foundation.cos($0) }
        unary("Softplus") { Foundation.log1p(Foundation.exp(-Swift.abs($0))) + Swift.max($0, 0) }
        unary("HardSwish") { Activation.hardSwish.apply($0) }
        register("LeakyRelu") { ctx in
            let a = Activation.leakyRelu(alpha: ctx.float("alpha", 0.01))
            return try unaryFloat(ctx) { a.apply($0) }
        }
        register("HardSigmoid") { ctx in
            let a = Activation.hardSigmoid(alpha: ctx.float("alpha", 0.2), beta: ctx.float("beta", 0.5))
            return try unaryFloat(ctx) { a.apply($0) }
        }
        register("Elu") { ctx in
            let alpha = ctx.float("alpha", 1)
            return try unaryFloat(ctx) { $0 < 0 ? alpha * (Foundation.exp($0) - 1) : $0 }
        }
        register("Clip") { ctx in
            let x = try ctx.input(0, numeric)
            let lo = try ctx.optionalScalar(1, "min"), hi = try ctx.optionalScalar(2, "max")
            switch x.elementType {
            case .float32:
                let l = lo.map(Float.init) ?? -.infinity, h = hi.map(Float.init) ?? .infinity
                return try unaryFloat(ctx) { Swift.min(Swift.max($0, l), h) }
            case .int64:
                let l = lo.map { Int64(saturatingInt($0)) } ?? .min, h = hi.map { Int64(saturatingInt($0)) } ?? .max
                return unaryTyped(ctx, Int64.self) { Swift.min(Swift.max($0, l), h) }
            default:
                let l = lo.map { Int32(clamping: saturatingInt($0)) } ?? .min, h = hi.map { Int32(clamping: saturatingInt($0)) } ?? .max
                return unaryTyped(ctx, Int32.self) { Swift.min(Swift.max($0, l), h) }
            }
        }
        register("Not") { ctx in
            _ = try ctx.input(0, [.bool])
            return unaryTyped(ctx, UInt8.self) { $0 == 0 ? 1 : 0 }
        }
    }

    mutating func unary(_ op: String, f: @escaping @Sendable (Float) -> Float) {
        register(op) { ctx in try unaryFloat(ctx, f) }
    }

    mutating func unary(
        _ op: String, f: @escaping @Sendable (Float) -> Float, i64: @escaping @Sendable (Int64) -> Int64,
        i32: @escaping @Sendable (Int32) -> Int32
    ) {
        register(op) { ctx in
            let x = try ctx.input(0, numeric)
            switch x.elementType {
            case .float32: return try unaryFloat(ctx, f)
            case .int64: return unaryTyped(ctx, Int64.self, i64)
            default: return unaryTyped(ctx, Int32.self, i32)
            }
        }
    }
}

func unaryFloat(_ ctx: NodePlanContext, _ f: @escaping @Sendable (Float) -> Float) throws -> PlannedOp {
    _ = try ctx.input(0, floatOnly)
    return unaryTyped(ctx, Float.self, f)
}

func unaryTyped<T>(_ ctx: NodePlanContext, _: T.Type, _ f: @escaping @Sendable (T) -> T) -> PlannedOp {
    let x = ctx.inputTypes[0] ?? ValueType(.float32, [])
    return .kernel(outputs: [x], workspaceBytes: 0) { b in
        UnaryKernel<T>(input: b.input(0), output: b.outputs[0], count: x.elementCount, f: f)
    }
}

final class UnaryKernel<T>: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let count: Int
    let f: @Sendable (T) -> T

    init(input: Buffer, output: Buffer, count: Int, f: @escaping @Sendable (T) -> T) {
        self.input = input
        self.output = output
        self.count = count
        self.f = f
    }

    func execute(_ memory: Memory) throws {
        let x = memory.typed(input, T.self), y = memory.typed(output, T.self)
        let f = self.f
        for i in 0..<count { y[i] = f(x[i]) }
    }
}
