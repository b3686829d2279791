internal import CKernels
import ModelIR

/// The 8-bit element types of the int8 contract and their C names.
enum Q8Type {
    static let types: Set<ElementType> = [.uint8, .int8]

    static func c(_ e: ElementType) -> flotilla_q8_type? {
        switch e {
        case .uint8: return FLOTILLA_Q8_U8
        case .int8: return FLOTILLA_Q8_S8
        default: return nil
        }
    }

    static func range(_ e: ElementType) -> ClosedRange<Int32> { e == .uint8 ? 0...255 : -128...127 }
}

/// A per-tensor quantization: real = scale · (q − zeroPoint).
struct Q8Param: Equatable {
    var scale: Double
    var zeroPoint: Int32
    var type: ElementType

    var cType: flotilla_q8_type { type == .uint8 ? FLOTILLA_Q8_U8 : FLOTILLA_Q8_S8 }
    var zeroPointByte: UInt8 { UInt8(truncatingIfNeeded: zeroPoint) }
}

/// A C status turned into a plan error naming what was being prepared.
func q8Check(_ ctx: NodePlanContext, _ status: flotilla_q8_status, _ what: String) throws {
    guard status != FLOTILLA_Q8_OK else { return }
    let message = flotilla_q8_status_message(status).map { String(cString: $0) } ?? "status \(status.rawValue)"
    throw ctx.fail("\(what): \(message)")
}

extension NodePlanContext {
    /// Scales at input `i` as doubles: a constant float32 tensor of `count` values (1 for
    /// per-tensor), each positive and finite.
    func quantScales(_ i: Int, count: Int? = 1, _ what: String) throws -> [Double] {
        let t = try requireConstant(i, "\(what) scale")
        guard t.elementType == .float32, let f = t.floats, t.rank <= 1 else {
            throw fail("\(what) scale must be a float32 scalar or 1-D tensor, got \(t.elementType)\(t.shape)")
        }
        if let count, f.count != count {
            throw fail("\(what) scale has \(f.count) values; this op needs \(count == 1 ? "one (per-tensor)" : "\(count) (one per channel) or one")")
        }
        if let bad = f.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw fail("\(what) scale[\(bad)] = \(f[bad]) is not a positive finite number")
        }
        return f.map(Double.init)
    }

    /// Zero points at input `i` (absent = 0) for a value of type `type`, `count` of them.
    func quantZeroPoints(_ i: Int, count: Int, type: ElementType, _ what: String) throws -> [Int32] {
        guard has(i) else { return [Int32](repeating: 0, count: count) }
        let t = try requireConstant(i, "\(what) zero point")
        guard t.elementType == type, let v = t.asInt64s, t.rank <= 1 else {
            throw fail("\(what) zero point must be a \(type) scalar or 1-D tensor like the value it belongs to, got \(t.elementType)\(t.shape)")
        }
        if v.count == 1, count > 1 { return [Int32](repeating: Int32(truncatingIfNeeded: v[0]), count: count) }
        guard v.count == count else { throw fail("\(what) has \(v.count) zero points for \(count) scales") }
        return v.map { Int32(truncatingIfNeeded: $0) }
    }

    /// The per-tensor parameters of an 8-bit activation whose scale is input `scale` and zero
    /// point input `zeroPoint`; `type` is the activation's element type.
    func q8Param(scale: Int, zeroPoint: Int, type: ElementType, _ what: String) throws -> Q8Param {
        guard Q8Type.types.contains(type) else {
            throw fail("\(what) is \(type); int8 ops take uint8 or int8 activations")
        }
        let s = try quantScales(scale, what)
        let z = try quantZeroPoints(zeroPoint, count: 1, type: type, what)
        return Q8Param(scale: s[0], zeroPoint: z[0], type: type)
    }

    /// The element type an op's quantized output takes from its zero point input (uint8 when
    /// the zero point is absent, as ONNX says).
    func outputQ8Type(zeroPoint i: Int, default def: ElementType) throws -> ElementType {
        guard has(i) else { return def }
        let t = try input(i, Q8Type.types)
        return t.elementType
    }
}
