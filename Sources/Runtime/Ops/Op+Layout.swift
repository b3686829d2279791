import ModelIR

/// DepthToSpace and SpaceToDepth (a reshape and transpose, planned as one affine copy), Trilu
/// (a triangle mask with a plan-time diagonal offset) and OneHot (plan-time depth).
extension OpRegistry {
    mutating func registerLayout() {
        register("DepthToSpace") { ctx in
            let x = try ctx.input(0, anyStored)
            let b = ctx.int("blocksize", 0)
            guard x.rank == 4, b > 0, b <= maxGeometryValue, x.shape[1] % (b * b) == 0 else {
                throw ctx.fail("input \(x.shape) must be NCHW with C divisible by blocksize² (blocksize \(b))")
            }
            let (n, c, h, w) = (x.shape[0], x.shape[1] / (b * b), x.shape[2], x.shape[3])
            // DCR: [N, b, b, C', H, W] → [N, C', H, b, W, b]; CRD: [N, C', b, b, H, W] → same.
            let mode = ctx.string("mode", "DCR")
            let (inShape, perm): ([Int], [Int])
            switch mode {
            case "DCR": (inShape, perm) = ([n, b, b, c, h, w], [0, 3, 4, 1, 5, 2])
            case "CRD": (inShape, perm) = ([n, c, b, b, h, w], [0, 1, 4, 2, 5, 3])
            default: throw ctx.fail("mode '\(mode)' is not one of DCR, CRD")
            }
            return permuted(ctx, x, inShape: inShape, perm: perm, outShape: [n, c, h * b, w * b])
        }
        register("SpaceToDepth") { ctx in
            let x = try ctx.input(0, anyStored)
            let b = ctx.int("blocksize", 0)
            guard x.rank == 4, b > 0, b <= maxGeometryValue, x.shape[2] % b == 0, x.shape[3] % b == 0 else {
                throw ctx.fail("input \(x.shape) must be NCHW with H and W divisible by blocksize \(b)")
            }
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2] / b, x.shape[3] / b)
            // [N, C, H', b, W', b] → DCR: [N, b, b, C, H', W']; CRD: [N, C, b, b, H', W'].
            let mode = ctx.string("mode", "DCR")
            guard mode == "DCR" || mode == "CRD" else { throw ctx.fail("mode '\(mode)' is not one of DCR, CRD") }
            let perm = mode == "DCR" ? [0, 3, 5, 1, 2, 4] : [0, 1, 3, 5, 2, 4]
            return permuted(ctx, x, inShape: [n, c, h, b, w, b], perm: perm, outShape: [n, c * b * b, h, w])
        }
        register("Trilu") { ctx in
            let x = try ctx.input(0, anyStored)
            guard x.rank >= 2 else { throw ctx.fail("input \(x.shape) must have rank ≥ 2") }
            let k = try ctx.optionalInts(1, "k") ?? [0]
            guard k.count == 1 else { throw ctx.fail("k must hold one number, got \(k)") }
            let rows = x.shape[x.rank - 2], cols = x.shape[x.rank - 1]
            return .kernel(outputs: [x], workspaceBytes: 0) { b in
                TriluKernel(
                    input: b.input(0), output: b.outputs[0], matrices: x.shape.dropLast(2).reduce(1, *), rows: rows, cols: cols,
                    k: Swift.max(Swift.min(k[0], maxGeometryValue), -maxGeometryValue), upper: ctx.int("upper", 1) != 0,
                    elementSize: x.elementType.byteSize ?? 1)
            }
        }
        register("OneHot") { ctx in
            let idx = try ctx.input(0, [.int64, .int32, .float32]), values = try ctx.input(2, anyStored)
            guard let depthValue = try ctx.optionalScalar(1, "depth"), depthValue >= 1, depthValue <= Double(maxGeometryValue) else {
                throw ctx.fail("depth must be one positive number at most \(maxGeometryValue), known at plan time")
            }
            guard values.elementCount == 2 else { throw ctx.fail("values must hold [off, on], got \(values.shape)") }
            let depth = Int(depthValue)
            let axis = try ctx.axis(ctx.int("axis", -1), rank: idx.rank + 1)
            var outShape = idx.shape
            outShape.insert(depth, at: axis)
            return .kernel(outputs: [ValueType(values.elementType, outShape)], workspaceBytes: 0) { b in
                OneHotKernel(
                    indices: b.input(0), values: b.input(2), output: b.outputs[0], indexType: idx.elementType,
                    outer: idx.shape[..<axis].reduce(1, *), inner: idx.shape[axis...].reduce(1, *), depth: depth,
                    elementSize: values.elementType.byteSize ?? 1)
            }
        }
    }
}

private func permuted(_ ctx: NodePlanContext, _ x: ValueType, inShape: [Int], perm: [Int], outShape: [Int]) -> PlannedOp {
    let strides = rowMajorStrides(inShape)
    let dims = perm.map { inShape[$0] }
    let c = StridedCopy(
        dims: dims, inStrides: perm.map { strides[$0] }, outStrides: rowMajorStrides(dims), elementSize: x.elementType.byteSize ?? 1)
    return copies(ctx, outputs: [ValueType(x.elementType, outShape)], [(0, 0, c)])
}

/// Keeps the upper (j − i ≥ k) or lower (j − i ≤ k) triangle of each matrix; zeroes the rest.
final class TriluKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let matrices, rows, cols, k: Int
    let upper: Bool
    let elementSize: Int

    init(input: Buffer, output: Buffer, matrices: Int, rows: Int, cols: Int, k: Int, upper: Bool, elementSize: Int) {
        self.input = input
        self.output = output
        self.matrices = matrices
        self.rows = rows
        self.cols = cols
        self.k = k
        self.upper = upper
        self.elementSize = elementSize
    }

    func execute(_ memory: Memory) throws {
        let x = memory.raw(input), y = memory.raw(output), es = elementSize
        for m in 0..<matrices {
            for i in 0..<rows {
                let row = (m * rows + i) * cols * es
                // Kept columns: [max(0, i + k), cols) for upper, [0, min(cols, i + k + 1)) for lower.
                let lo = upper ? Swift.min(Swift.max(0, i + k), cols) : 0
                let hi = upper ? cols : Swift.min(Swift.max(0, i + k + 1), cols)
                (y + row).initializeMemory(as: UInt8.self, repeating: 0, count: cols * es)
                if hi > lo { (y + row + lo * es).copyMemory(from: x + row + lo * es, byteCount: (hi - lo) * es) }
            }
        }
    }
}

/// out[o, d, i] = values[1] where index[o, i] (negative: + depth) == d, else values[0];
/// an index outside [-depth, depth) gives an all-off row, as in ONNX's reference.
final class OneHotKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let indices, values, output: Buffer
    let indexType: ElementType
    let outer, inner, depth, elementSize: Int

    init(
        indices: Buffer, values: Buffer, output: Buffer, indexType: ElementType, outer: Int, inner: Int, depth: Int, elementSize: Int
    ) {
        self.indices = indices
        self.values = values
        self.output = output
        self.indexType = indexType
        self.outer = outer
        self.inner = inner
        self.depth = depth
        self.elementSize = elementSize
    }

    func execute(_ memory: Memory) throws {
        let idx = memory.raw(indices), v = memory.raw(values), y = memory.raw(output), es = elementSize
        for o in 0..<outer {
            for d in 0..<depth {
                for i in 0..<inner {
                    let j = o * inner + i
                    var index: Int
                    switch indexType {
                    case .float32: index = saturatingInt(Double(idx.load(fromByteOffset: j * 4, as: Float.self)))
                    case .int32: index = Int(idx.load(fromByteOffset: j * 4, as: Int32.self))
                    default: index = Int(truncatingIfNeeded: idx.load(fromByteOffset: j * 8, as: Int64.self))
                    }
                    if index < 0 && index >= -depth { index += depth }
                    (y + ((o * depth + d) * inner + i) * es).copyMemory(from: v + (index == d ? es : 0), byteCount: es)
                }
            }
        }
    }
}
