import Foundation
import ModelIR

/// Pow with a base and an exponent of different types (ONNX Pow-12+: T for the base, T1 for
/// the exponent, output T). Same-typed Pow stays in `Op+Binary.swift`; this path computes in
/// Double and converts once to the base's type, the way numpy's `power(a, b).astype(a.dtype)`
/// does, which is what ONNX's reference uses.
func planMixedPow(_ ctx: NodePlanContext) throws -> PlannedOp {
    let base = try ctx.input(0, numeric)
    let exponent = try ctx.input(1, MixedPowKernel.exponentTypes)
    guard let out = broadcastShapes([base.shape, exponent.shape]) else {
        throw ctx.fail("shapes \(base.shape) and \(exponent.shape) do not broadcast")
    }
    let loop = BroadcastLoop(output: out, inputs: [base.shape, exponent.shape])
    return .kernel(outputs: [ValueType(base.elementType, out)], workspaceBytes: 0) { b in
        MixedPowKernel(
            loop: loop, base: b.input(0), exponent: b.input(1), output: b.outputs[0], baseType: base.elementType,
            exponentType: exponent.elementType)
    }
}

final class MixedPowKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    static let exponentTypes: Set<ElementType> = [.float32, .float64, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64]

    let loop: BroadcastLoop
    let base, exponent, output: Buffer
    let baseType, exponentType: ElementType

    init(loop: BroadcastLoop, base: Buffer, exponent: Buffer, output: Buffer, baseType: ElementType, exponentType: ElementType) {
        self.loop = loop
        self.base = base
        self.exponent = exponent
        self.output = output
        self.baseType = baseType
        self.exponentType = exponentType
    }

    func execute(_ memory: Memory) throws {
        let pb = memory.raw(base), pe = memory.raw(exponent), po = memory.raw(output)
        let (bt, et) = (baseType, exponentType)
        loop.forEachRow { o, ib, ie, _, n, sb, se, _ in
            for i in 0..<n {
                let v = Foundation.pow(Self.load(pb, ib + i * sb, bt), Self.load(pe, ie + i * se, et))
                Self.store(v, po, o + i, bt)
            }
        }
    }

    @inline(__always)
    static func load(_ p: UnsafeMutableRawPointer, _ i: Int, _ t: ElementType) -> Double {
        switch t {
        case .float32: return Double(p.load(fromByteOffset: i * 4, as: Float.self))
        case .float64: return p.load(fromByteOffset: i * 8, as: Double.self)
        case .int8: return Double(p.load(fromByteOffset: i, as: Int8.self))
        case .uint8: return Double(p.load(fromByteOffset: i, as: UInt8.self))
        case .int16: return Double(p.load(fromByteOffset: i * 2, as: Int16.self))
        case .uint16: return Double(p.load(fromByteOffset: i * 2, as: UInt16.self))
        case .int32: return Double(p.load(fromByteOffset: i * 4, as: Int32.self))
        case .uint32: return Double(p.load(fromByteOffset: i * 4, as: UInt32.self))
        case .int64: return Double(p.load(fromByteOffset: i * 8, as: Int64.self))
        case .uint64: return Double(p.load(fromByteOffset: i * 8, as: UInt64.self))
        default: return 0
        }
    }

    /// Float results round once; integer results truncate toward zero and saturate (numpy's
    /// cast of an out-of-range float is undefined; saturation at least never traps).
    @inline(__always)
    static func store(_ v: Double, _ p: UnsafeMutableRawPointer, _ i: Int, _ t: ElementType) {
        switch t {
        case .float32: p.storeBytes(of: Float(v), toByteOffset: i * 4, as: Float.self)
        case .int32:
            let x: Int32 = v.isNaN ? 0 : (v >= 2_147_483_647 ? .max : (v <= -2_147_483_648 ? .min : Int32(v)))
            p.storeBytes(of: x, toByteOffset: i * 4, as: Int32.self)
        case .int64: p.storeBytes(of: Int64(saturatingInt(v)), toByteOffset: i * 8, as: Int64.self)
        default: break
        }
    }
}
