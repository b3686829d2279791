import ModelIR

/// Resize in nearest mode on uint8/int8 values: the fp32 op's plan (`ResizePlan`: every
/// nearest_mode and coordinate_transformation_mode, sizes or scales, axes, aspect-ratio
/// policies) with byte copies instead of float ones. Nearest only selects input values, so no
/// quantization parameter is involved and the bytes equal what the fp32 kernel gives on the
/// widened values.
extension OpRegistry {
    mutating func registerQuantizedResize() {
        guard let fp32 = lookup("", "Resize") else { return }
        register("Resize") { ctx in
            guard let x = ctx.inputTypes.first ?? nil, Q8Type.types.contains(x.elementType) else { return try fp32(ctx) }
            guard ctx.string("mode", "nearest") == "nearest" else {
                throw ctx.fail(
                    "int8 Resize runs in nearest mode only; linear interpolation of int8 values needs requantization — "
                        + "keep it in fp32 (DequantizeLinear → Resize → QuantizeLinear)")
            }
            let r = try ResizePlan(ctx, input: x.shape)
            for p in r.passes where p.axis.taps != 1 || p.axis.weight.contains(where: { $0 != 1 }) {
                throw ctx.fail("the nearest Resize plan has a pass with \(p.axis.taps) taps; expected one source per output")
            }
            let fill = try extrapolationByte(ctx, r, signed: x.elementType == .int8)
            let half = r.halfBytes(elementBytes: 1)
            return .kernel(outputs: [ValueType(x.elementType, r.outShape)], workspaceBytes: 2 * half) { b in
                ResizeKernel<UInt8>(
                    input: b.input(0), output: b.outputs[0], workspace: b.workspace, half: half, passes: r.passes,
                    copyCount: r.inputCount, fill: fill)
            }
        }
    }
}

/// The byte tf_crop_and_resize writes outside the roi: extrapolation_value converted as the
/// widened path narrows floats (toward zero); refused when the type cannot hold it.
private func extrapolationByte(_ ctx: NodePlanContext, _ r: ResizePlan, signed: Bool) throws -> UInt8 {
    guard r.passes.contains(where: { $0.axis.extrapolate.contains(true) }) else { return 0 }
    let v = r.extrapolation
    let range: ClosedRange<Float> = signed ? -128...127 : 0...255
    guard v.isFinite, range.contains(v.rounded(.towardZero)) else {
        throw ctx.fail(
            "extrapolation_value \(v) does not fit the \(signed ? "int8" : "uint8") input; give a value in \(range) "
                + "(the quantized value to write outside the roi)")
    }
    let i = Int(v.rounded(.towardZero))
    return signed ? UInt8(bitPattern: Int8(i)) : UInt8(i)
}

extension UInt8: ResizeElement {
    static func resizePass(_ p: ResizePass, _ src: UnsafeMutablePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, fill: UInt8) {
        p.axis.index.withUnsafeBufferPointer { index in
            p.axis.extrapolate.withUnsafeBufferPointer { outside in
                for o in 0..<p.outer {
                    let s = src + o * p.inLength * p.inner, d = dst + o * p.outLength * p.inner
                    if p.inner == 1 {
                        // Innermost axis: one byte per output, a gather.
                        for j in 0..<p.outLength { d[j] = outside[j] ? fill : s[index[j]] }
                        continue
                    }
                    for j in 0..<p.outLength {
                        let out = d + j * p.inner
                        if outside[j] {
                            out.update(repeating: fill, count: p.inner)
                        } else {
                            out.update(from: s + index[j] * p.inner, count: p.inner)
                        }
                    }
                }
            }
        }
    }
}
