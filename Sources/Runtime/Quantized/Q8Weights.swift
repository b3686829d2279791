import ModelIR

/// Constant weights turned into the contract's form: int8 symmetric (zero point 0) in
/// [-127, 127], as M rows of K values.
enum Q8Weights {
    /// `values` (row-major, int8 or uint8) minus their zero points, where zero point `zp[c]`
    /// applies to every element whose `channelOf(index)` is c. Weights that still fall outside
    /// [-127, 127] (an asymmetric int8 tensor using -128, a uint8 tensor with a zero point far
    /// from 128) are refused: the int8 kernels require symmetric weights.
    static func symmetric(_ ctx: NodePlanContext, _ t: Tensor, zeroPoints zp: [Int32], channelOf: (Int) -> Int, name: String) throws
        -> [Int8]
    {
        let raw: [Int32]
        switch t.elementType {
        case .int8: raw = (t.int8s ?? []).map(Int32.init)
        case .uint8: raw = (t.uint8s ?? []).map(Int32.init)
        default: throw ctx.fail("weights '\(name)' are \(t.elementType); int8 ops take int8 (or uint8) weights")
        }
        var out = [Int8](repeating: 0, count: raw.count)
        for i in raw.indices {
            let v = raw[i] - zp[channelOf(i)]
            guard v >= -127, v <= 127 else {
                throw ctx.fail(
                    "weights '\(name)' element \(i) is \(raw[i]) with zero point \(zp[channelOf(i)]): \(v) is outside [-127, 127]; "
                        + "the int8 runtime needs symmetric weights (zero point 0, no -128) — quantize weights symmetrically",
                    .unsupportedAttribute("asymmetric weights (zero point ≠ 0, docs/int8-numerics.md)"))
            }
            out[i] = Int8(v)
        }
        return out
    }

    /// Transposes a rows × cols row-major matrix.
    static func transposed<T>(_ v: [T], rows: Int, cols: Int) -> [T] {
        guard rows > 0, cols > 0 else { return v }
        var out = v
        for r in 0..<rows {
            for c in 0..<cols { out[c * rows + r] = v[r * cols + c] }
        }
        return out
    }

    /// int32 bias of `count` values from a constant input (absent = nil).
    static func bias(_ ctx: NodePlanContext, _ i: Int, count: Int) throws -> [Int32]? {
        guard ctx.has(i) else { return nil }
        let b = try ctx.requireConstant(i, "the bias")
        guard b.elementType == .int32, let v = b.int32s, v.count == count else {
            throw ctx.fail("bias must be int32 with \(count) values (scale = input scale × weight scale), got \(b.elementType)\(b.shape)")
        }
        return v
    }
}
