import Foundation
import ModelIR

/// Unary math and activations beyond the core set (trigonometry, Selu, Celu, Gelu, Swish,
/// Softsign, ThresholdedRelu, Shrink, Mish), IsNaN/IsInf, Mod, Sum/Mean and CastLike.
/// Float activations follow the ONNX definitions (their function bodies where one exists).
extension OpRegistry {
    mutating func registerMathExtras() {
        unary("Tan") { Foundation.tan($0) }
        unary("Asin") { Foundation.asin($0) }
        unary("Acos") { Foundation.acos($0) }
        unary("Atan") { Foundation.atan($0) }
        unary("Sinh") { Foundation.sinh($0) }
        unary("Cosh") { Foundation.cosh($0) }
        unary("Asinh") { Foundation.asinh($0) }
        unary("Acosh") { Foundation.acosh($0) }
        unary("Atanh") { Foundation.atanh($0) }
        unary("Softsign") { $0 / (1 + Swift.abs($0)) }
        unary("Mish") { x in
            let softplus = Foundation.log1p(Foundation.exp(-Swift.abs(x))) + Swift.max(x, 0)
            return x * Foundation.tanh(softplus)
        }
        register("Selu") { ctx in
            let alpha = ctx.float("alpha", 1.67326319217681884765625), gamma = ctx.float("gamma", 1.05070102214813232421875)
            return try unaryFloat(ctx) { $0 > 0 ? gamma * $0 : gamma * (alpha * Foundation.exp($0) - alpha) }
        }
        register("Celu") { ctx in
            let alpha = ctx.float("alpha", 1)
            guard alpha != 0 else { throw ctx.fail("alpha must not be 0 (Celu divides by it)") }
            return try unaryFloat(ctx) { Swift.max(0, $0) + Swift.min(0, alpha * (Foundation.exp($0 / alpha) - 1)) }
        }
        register("ThresholdedRelu") { ctx in
            let alpha = ctx.float("alpha", 1)
            return try unaryFloat(ctx) { $0 > alpha ? $0 : 0 }
        }
        register("Shrink") { ctx in
            let bias = ctx.float("bias", 0), lambd = ctx.float("lambd", 0.5)
            return try unaryFloat(ctx) { $0 < -lambd ? $0 + bias : ($0 > lambd ? $0 - bias : 0) }
        }
        register("Swish") { ctx in
            let alpha = ctx.float("alpha", 1)
            return try unaryFloat(ctx) { $0 / (1 + Foundation.exp(-alpha * $0)) }
        }
        register("Gelu") { ctx in
            switch ctx.string("approximate", "none") {
            case "none":
                return try unaryFloat(ctx) { x in Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))) }
            case "tanh":
                return try unaryFloat(ctx) { x in
                    let d = Double(x)
                    return Float(0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d))))
                }
            case let other:
                throw ctx.fail("approximate '\(other)' is not one of none, tanh", .unsupportedAttribute("approximate"))
            }
        }
        register("IsNaN") { ctx in
            let x = try ctx.input(0, floatOnly)
            return .kernel(outputs: [ValueType(.bool, x.shape)], workspaceBytes: 0) { b in
                FloatPredicateKernel(input: b.input(0), output: b.outputs[0], count: x.elementCount) { $0.isNaN }
            }
        }
        register("IsInf") { ctx in
            let x = try ctx.input(0, floatOnly)
            let negative = ctx.int("detect_negative", 1) != 0, positive = ctx.int("detect_positive", 1) != 0
            return .kernel(outputs: [ValueType(.bool, x.shape)], workspaceBytes: 0) { b in
                FloatPredicateKernel(input: b.input(0), output: b.outputs[0], count: x.elementCount) {
                    $0.isInfinite && ($0 < 0 ? negative : positive)
                }
            }
        }
        register("Mod") { ctx in try planMod(ctx) }
        register("BitwiseAnd") { ctx in try planBitwise(ctx, .and) }
        register("BitwiseOr") { ctx in try planBitwise(ctx, .or) }
        register("BitwiseXor") { ctx in try planBitwise(ctx, .xor) }
        register("BitShift") { ctx in
            switch ctx.string("direction", "") {
            case "LEFT": return try planBitwise(ctx, .shiftLeft)
            case "RIGHT": return try planBitwise(ctx, .shiftRight)
            case let d: throw ctx.fail("direction '\(d)' must be LEFT or RIGHT")
            }
        }
        register("BitwiseNot") { ctx in
            let x = try ctx.input(0)
            func make<T: FixedWidthInteger & Sendable>(_: T.Type) -> PlannedOp { unaryTyped(ctx, T.self) { ~$0 } }
            switch x.elementType {
            case .int64: return make(Int64.self)
            case .int32: return make(Int32.self)
            case .int16: return make(Int16.self)
            case .int8: return make(Int8.self)
            case .uint64: return make(UInt64.self)
            case .uint32: return make(UInt32.self)
            case .uint16: return make(UInt16.self)
            case .uint8: return make(UInt8.self)
            default: throw ctx.fail("\(x.elementType) is not an integer type", .unsupportedElementType(x.elementType))
            }
        }
        register("CastLike") { ctx in
            let x = try ctx.input(0), like = try ctx.input(1)
            let to = like.elementType
            guard CastKernel.supported.contains(x.elementType), CastKernel.supported.contains(to) else {
                throw ctx.fail(
                    "CastLike \(x.elementType) → \(to) is not supported (types: \(CastKernel.supported.map(\.rawValue).sorted()))",
                    .unsupportedElementType(CastKernel.supported.contains(x.elementType) ? to : x.elementType))
            }
            return .kernel(outputs: [ValueType(to, x.shape)], workspaceBytes: 0) { b in
                CastKernel(input: b.input(0), output: b.outputs[0], from: x.elementType, to: to, count: x.elementCount)
            }
        }
    }
}

/// Mod: fmod = 1 is C's fmod (the result takes the dividend's sign), fmod = 0 is Python's %
/// (the divisor's sign). Integer division by zero yields 0 instead of trapping.
private func planMod(_ ctx: NodePlanContext) throws -> PlannedOp {
    let a = try ctx.input(0), b = try ctx.input(1)
    guard a.elementType == b.elementType else {
        throw ctx.fail("inputs are \(a.elementType) and \(b.elementType); both must have the same type (insert a Cast)")
    }
    guard let out = broadcastShapes([a.shape, b.shape]) else { throw ctx.fail("shapes \(a.shape) and \(b.shape) do not broadcast") }
    let fmod = ctx.int("fmod", 0) != 0
    func integer<T: FixedWidthInteger & Sendable>(_: T.Type) -> PlannedOp {
        binaryKernel(ctx, T.self, T.self, out) { x, y in
            guard y != 0 else { return 0 }
            let (r, overflow) = x.remainderReportingOverflow(dividingBy: y)
            if overflow { return 0 }
            if !fmod, r != 0, (r < 0) != (y < 0) { return r &+ y }
            return r
        }
    }
    switch a.elementType {
    case .float32:
        if fmod { return binaryKernel(ctx, Float.self, Float.self, out) { Foundation.fmod($0, $1) } }
        // numpy's float mod (ONNX's reference for fmod = 0): the divisor's sign, zero signed like it.
        return binaryKernel(ctx, Float.self, Float.self, out) { x, y in
            let r = Foundation.fmod(x, y)
            if r == 0 { return Float(signOf: y, magnitudeOf: 0) }
            return (r < 0) != (y < 0) ? r + y : r
        }
    case .int64: return integer(Int64.self)
    case .int32: return integer(Int32.self)
    case .int16: return integer(Int16.self)
    case .int8: return integer(Int8.self)
    case .uint64: return integer(UInt64.self)
    case .uint32: return integer(UInt32.self)
    case .uint16: return integer(UInt16.self)
    case .uint8: return integer(UInt8.self)
    default:
        throw ctx.fail("\(a.elementType) is not supported; Mod runs on float32 and integer types", .unsupportedElementType(a.elementType))
    }
}

/// A float → bool predicate per element (IsNaN, IsInf).
final class FloatPredicateKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let count: Int
    let predicate: @Sendable (Float) -> Bool

    init(input: Buffer, output: Buffer, count: Int, predicate: @escaping @Sendable (Float) -> Bool) {
        self.input = input
        self.output = output
        self.count = count
        self.predicate = predicate
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.typed(output, UInt8.self)
        for i in 0..<count { y[i] = predicate(x[i]) ? 1 : 0 }
    }
}

enum BitwiseOp: Sendable {
    case and, or, xor, shiftLeft, shiftRight

    /// Shifts by the bit width or more give 0 (Swift's smart shifts), as numpy does.
    @inline(__always)
    func apply<T: FixedWidthInteger>(_ a: T, _ b: T) -> T {
        switch self {
        case .and: return a & b
        case .or: return a | b
        case .xor: return a ^ b
        case .shiftLeft: return a << b
        case .shiftRight: return a >> b
        }
    }
}

/// Bitwise And/Or/Xor on every integer type; BitShift on the unsigned ones (as ONNX defines it).
private func planBitwise(_ ctx: NodePlanContext, _ op: BitwiseOp) throws -> PlannedOp {
    let a = try ctx.input(0), b = try ctx.input(1)
    guard a.elementType == b.elementType else {
        throw ctx.fail("inputs are \(a.elementType) and \(b.elementType); both must have the same type (insert a Cast)")
    }
    guard let out = broadcastShapes([a.shape, b.shape]) else { throw ctx.fail("shapes \(a.shape) and \(b.shape) do not broadcast") }
    func make<T: FixedWidthInteger & Sendable>(_: T.Type) -> PlannedOp { binaryKernel(ctx, T.self, T.self, out) { op.apply($0, $1) } }
    let shift = op == .shiftLeft || op == .shiftRight
    switch a.elementType {
    case .uint64: return make(UInt64.self)
    case .uint32: return make(UInt32.self)
    case .uint16: return make(UInt16.self)
    case .uint8: return make(UInt8.self)
    case .int64 where !shift: return make(Int64.self)
    case .int32 where !shift: return make(Int32.self)
    case .int16 where !shift: return make(Int16.self)
    case .int8 where !shift: return make(Int8.self)
    default:
        throw ctx.fail(
            "\(a.elementType) is not supported; this op runs on \(shift ? "unsigned integer" : "integer") types",
            .unsupportedElementType(a.elementType))
    }
}
