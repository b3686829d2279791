internal import CKernels
import ModelIR

/// QuantizeLinear, DequantizeLinear (per-tensor and per-axis) and DynamicQuantizeLinear: the
/// borders between fp32 and int8 values. Arithmetic follows ONNX Runtime: x / scale in float32,
/// rounded half to even; (x − zero point) · scale in float32.
extension OpRegistry {
    mutating func registerQuantizeLinear() {
        register("QuantizeLinear") { ctx in
            let xt = try ctx.input(0, floatOnly)
            let yType: ElementType
            if ctx.has(2) {
                yType = try ctx.input(2, Q8Type.types).elementType
            } else if let name = ctx.node.string("output_dtype") {
                guard let e = ElementType(rawValue: name), Q8Type.types.contains(e) else {
                    throw ctx.fail(
                        "output_dtype \(name) is not supported; the runtime quantizes to uint8 or int8",
                        ElementType(rawValue: name).map { .unsupportedElementType($0) } ?? .invalid)
                }
                yType = e
            } else {
                yType = .uint8
            }
            let axis = try perAxisLayout(ctx, shape: xt.shape)
            let scales = try ctx.quantScales(1, count: axis.channels, "y").map(Float.init)
            let zps = try ctx.quantZeroPoints(2, count: scales.count, type: yType, "y")
            let range = Q8Type.range(yType)
            guard let quantize = ctx.kernels.q8.pointee.quantize else {
                throw ctx.fail("the int8 kernel table has no QuantizeLinear kernel")
            }
            return .kernel(outputs: [ValueType(yType, xt.shape)], workspaceBytes: 0) { b in
                QuantizeLinearKernel(
                    quantize: quantize, x: b.input(0), y: b.outputs[0], scales: scales, zeroPoints: zps, layout: axis,
                    qmin: range.lowerBound, qmax: range.upperBound)
            }
        }
        register("DequantizeLinear") { ctx in
            let xt = try ctx.input(0, [.uint8, .int8, .int32, .uint16, .int16])
            if let name = ctx.node.string("output_dtype"), name != ElementType.float32.rawValue {
                throw ctx.fail("output_dtype \(name) is not supported; the runtime dequantizes to float32")
            }
            let axis = try perAxisLayout(ctx, shape: xt.shape)
            let scales = try ctx.quantScales(1, count: axis.channels, "x").map(Float.init)
            let zps = try ctx.quantZeroPoints(2, count: scales.count, type: xt.elementType, "x")
            return .kernel(outputs: [ValueType(.float32, xt.shape)], workspaceBytes: 0) { b in
                DequantizeLinearKernel(x: b.input(0), y: b.outputs[0], type: xt.elementType, scales: scales, zeroPoints: zps, layout: axis)
            }
        }
        register("DynamicQuantizeLinear") { ctx in
            let xt = try ctx.input(0, floatOnly)
            guard let quantize = ctx.kernels.q8.pointee.quantize else {
                throw ctx.fail("the int8 kernel table has no QuantizeLinear kernel")
            }
            return .kernel(outputs: [ValueType(.uint8, xt.shape), ValueType(.float32, []), ValueType(.uint8, [])], workspaceBytes: 0) { b in
                DynamicQuantizeLinearKernel(
                    quantize: quantize, x: b.input(0), y: b.outputs[0], scale: b.outputs[1], zeroPoint: b.outputs[2],
                    count: xt.elementCount)
            }
        }
    }
}

/// outer × channels × inner view of a tensor for per-axis parameters (channels = 1 per-tensor).
struct PerAxisLayout {
    var outer: Int
    var channels: Int
    var inner: Int
}

/// The layout for the node's scale input (1): per-tensor when it holds one value, else along
/// `axis` (default 1). Blocked quantization (block_size > 0) is refused.
private func perAxisLayout(_ ctx: NodePlanContext, shape: [Int]) throws -> PerAxisLayout {
    if ctx.int("block_size", 0) > 0 {
        throw ctx.fail("blocked quantization (block_size) is not supported", .unsupportedAttribute("block_size"))
    }
    let s = try ctx.requireConstant(1, "the scale")
    let count = Shape.checkedProduct(shape) ?? 0
    if s.elementCount == 1 { return PerAxisLayout(outer: 1, channels: 1, inner: count) }
    guard s.rank == 1 else { throw ctx.fail("scale \(s.shape) must be a scalar or 1-D (per-axis)") }
    let axis = try ctx.axis(ctx.int("axis", 1), rank: shape.count)
    guard shape[axis] == s.elementCount else {
        throw ctx.fail("\(s.elementCount) scales for axis \(axis) of \(shape); give one per slice")
    }
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    return PerAxisLayout(outer: outer, channels: shape[axis], inner: inner)
}

/// Runs of `inner` values through the int8 table's `quantize` kernel (x / scale in float32 — a true
/// division, vectorized — rounded half to even, plus the zero point, saturated; NaN → zero
/// point), the same bytes on every path.
final class QuantizeLinearKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the kernel is a C function.
    let quantize: @convention(c) (Int, UnsafePointer<Float>?, Float, Int32, Int32, Int32, UnsafeMutablePointer<UInt8>?) -> Void
    let x, y: Buffer
    let scales: [Float]
    let zeroPoints: [Int32]
    let layout: PerAxisLayout
    let qmin, qmax: Int32

    init(
        quantize: @escaping @convention(c) (Int, UnsafePointer<Float>?, Float, Int32, Int32, Int32, UnsafeMutablePointer<UInt8>?) -> Void,
        x: Buffer, y: Buffer, scales: [Float], zeroPoints: [Int32],
        layout: PerAxisLayout, qmin: Int32, qmax: Int32
    ) {
        self.quantize = quantize
        self.x = x
        self.y = y
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.layout = layout
        self.qmin = qmin
        self.qmax = qmax
    }

    func execute(_ memory: Memory) throws {
        let src = memory.floats(x), dst = memory.typed(y, UInt8.self)
        var i = 0
        for _ in 0..<layout.outer {
            for c in 0..<layout.channels {
                quantize(layout.inner, src + i, scales[c], zeroPoints[c], qmin, qmax, dst + i)
                i += layout.inner
            }
        }
    }
}

final class DequantizeLinearKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let x, y: Buffer
    let type: ElementType
    let scales: [Float]
    let zeroPoints: [Int32]
    let layout: PerAxisLayout

    init(x: Buffer, y: Buffer, type: ElementType, scales: [Float], zeroPoints: [Int32], layout: PerAxisLayout) {
        self.x = x
        self.y = y
        self.type = type
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.layout = layout
    }

    func execute(_ memory: Memory) throws {
        let raw = memory.raw(x)
        switch type {
        case .uint8: run(raw.assumingMemoryBound(to: UInt8.self), memory)
        case .int8: run(raw.assumingMemoryBound(to: Int8.self), memory)
        case .uint16: run(raw.assumingMemoryBound(to: UInt16.self), memory)
        case .int16: run(raw.assumingMemoryBound(to: Int16.self), memory)
        default: run(raw.assumingMemoryBound(to: Int32.self), memory)
        }
    }

    private func run<T: BinaryInteger>(_ src: UnsafeMutablePointer<T>, _ memory: Memory) {
        let dst = memory.floats(y)
        var i = 0
        for _ in 0..<layout.outer {
            for c in 0..<layout.channels {
                let s = scales[c], z = Int64(zeroPoints[c])
                for _ in 0..<layout.inner {
                    dst[i] = Float(Int64(src[i]) &- z) * s
                    i += 1
                }
            }
        }
    }
}

/// ONNX DynamicQuantizeLinear: uint8 with the range [min(0, min x), max(0, max x)], scale =
/// range / 255, zero point = round(−min / scale) saturated, y = saturate(round(x / scale) + zp).
/// An all-zero input gives scale 0, zero point 0 and zeros. NaN inputs do not move the range and
/// quantize to the zero point. The range is found 16 lanes at a time (a lane takes a value only
/// when it is strictly below / above, as the scalar rule does, so the result is the same bits);
/// the bytes come from the table's `quantize` kernel, as QuantizeLinear's do.
final class DynamicQuantizeLinearKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the kernel is a C function.
    let quantize: @convention(c) (Int, UnsafePointer<Float>?, Float, Int32, Int32, Int32, UnsafeMutablePointer<UInt8>?) -> Void
    let x, y, scale, zeroPoint: Buffer
    let count: Int

    init(
        quantize: @escaping @convention(c) (Int, UnsafePointer<Float>?, Float, Int32, Int32, Int32, UnsafeMutablePointer<UInt8>?) -> Void,
        x: Buffer, y: Buffer, scale: Buffer, zeroPoint: Buffer, count: Int
    ) {
        self.quantize = quantize
        self.x = x
        self.y = y
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.count = count
    }

    func execute(_ memory: Memory) throws {
        let src = memory.floats(x), dst = memory.typed(y, UInt8.self)
        let (lo, hi) = Self.range(src, count)
        let s = (hi - lo) / 255
        var zp: Float = 0
        if s > 0, s.isFinite {
            zp = min(max((0 - lo / s).rounded(.toNearestOrEven), 0), 255)
            quantize(count, src, s, Int32(zp), 0, 255, dst)
        } else {
            dst.update(repeating: 0, count: count)
        }
        if scale.bytes > 0 { memory.floats(scale).pointee = s.isFinite ? s : 0 }
        if zeroPoint.bytes > 0 { memory.typed(zeroPoint, UInt8.self).pointee = UInt8(zp) }
    }

    /// (min(0, min x), max(0, max x)) over the non-NaN values.
    static func range(_ src: UnsafePointer<Float>, _ count: Int) -> (lo: Float, hi: Float) {
        var vlo = SIMD16<Float>(repeating: 0), vhi = SIMD16<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(src)
        while i + 16 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<Float>.stride, as: SIMD16<Float>.self)
            vlo.replace(with: v, where: v .< vlo)
            vhi.replace(with: v, where: v .> vhi)
            i += 16
        }
        var lo: Float = 0, hi: Float = 0
        for lane in 0..<16 {
            if vlo[lane] < lo { lo = vlo[lane] }
            if vhi[lane] > hi { hi = vhi[lane] }
        }
        while i < count {
            if src[i] < lo { lo = src[i] }
            if src[i] > hi { hi = src[i] }
            i += 1
        }
        return (lo, hi)
    }
}
