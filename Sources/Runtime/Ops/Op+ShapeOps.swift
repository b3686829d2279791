import ModelIR

/// Ops that only change how bytes are viewed (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
/// Dropout: a copy into the output buffer), ops whose result is known at plan time (Shape,
/// Size, Constant), and ConstantOfShape, Cast.
extension OpRegistry {
    mutating func registerShapeOps() {
        register("Identity") { ctx in copyOp(ctx, shape: try ctx.input(0).shape) }
        register("Dropout") { ctx in
            let x = try ctx.input(0)
            if ctx.has(2), let t = ctx.constant(2), t.bools?.first == true {
                throw ctx.fail("training_mode = true is not supported: the runtime does inference only", .trainingMode)
            } else if ctx.has(2), ctx.constant(2) == nil {
                throw ctx.fail("training_mode must be a constant false for inference")
            }
            let mask = ValueType(.bool, x.shape)
            let count = x.elementCount
            let wantMask = ctx.wantsOutput(1)
            return .kernel(outputs: wantMask ? [x, mask] : [x], workspaceBytes: 0) { b in
                CopyKernel(
                    input: b.input(0), output: b.outputs[0], bytes: x.byteCount,
                    fillOnes: wantMask ? b.outputs[1] : nil, fillCount: count)
            }
        }
        register("Reshape") { ctx in
            let x = try ctx.input(0)
            let target = try ctx.requireInts(1, "the target shape")
            return copyOp(ctx, shape: try reshapeTarget(ctx, x.shape, target, allowZero: ctx.int("allowzero", 0) != 0))
        }
        register("Flatten") { ctx in
            let x = try ctx.input(0)
            let a = ctx.int("axis", 1)
            let axis = a < 0 ? a + x.rank : a
            guard (0...x.rank).contains(axis) else { throw ctx.fail("axis \(a) is out of range for rank \(x.rank)") }
            return copyOp(ctx, shape: [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])
        }
        register("Squeeze") { ctx in
            let x = try ctx.input(0)
            guard let axes = try ctx.optionalInts(1, "axes") else { return copyOp(ctx, shape: x.shape.filter { $0 != 1 }) }
            let norm = try Set(axes.map { try ctx.axis($0, rank: x.rank, "squeeze axis") })
            guard norm.count == axes.count else { throw ctx.fail("axes \(axes) repeat an axis") }
            if let bad = norm.sorted().first(where: { x.shape[$0] != 1 }) {
                throw ctx.fail("cannot squeeze axis \(bad) of shape \(x.shape): its size is \(x.shape[bad]), not 1")
            }
            return copyOp(ctx, shape: x.shape.enumerated().filter { !norm.contains($0.offset) }.map(\.element))
        }
        register("Unsqueeze") { ctx in
            let x = try ctx.input(0)
            let axes = try ctx.requireInts(1, "axes")
            let rank = x.rank + axes.count
            let norm = try Set(axes.map { try ctx.axis($0, rank: rank, "unsqueeze axis") })
            guard norm.count == axes.count else { throw ctx.fail("axes \(axes) repeat an axis") }
            var it = x.shape.makeIterator()
            return copyOp(ctx, shape: (0..<rank).map { norm.contains($0) ? 1 : it.next() ?? 1 })
        }
        register("Shape") { ctx in
            let x = try ctx.input(0)
            let r = x.rank
            func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + r : v, 0), r) }
            let start = clamp(ctx.int("start", 0)), end = clamp(ctx.int("end", r))
            return .constants([Tensor.vector(start < end ? x.shape[start..<end].map(Int64.init) : [])])
        }
        register("Size") { ctx in .constants([Tensor.scalar(Int64(try ctx.input(0).elementCount))]) }
        register("Constant") { ctx in
            guard let t = ctx.node.tensor("value") else { throw ctx.fail("Constant has no 'value' tensor attribute") }
            guard t.elementType != .string else { throw ctx.fail("string constants are not supported", .unsupportedElementType(.string)) }
            return .constants([t])
        }
        register("ConstantOfShape") { ctx in
            let dims = try ctx.requireInts(0, "the shape")
            guard dims.allSatisfy({ $0 >= 0 }) else { throw ctx.fail("shape \(dims) has a negative dimension") }
            let value = ctx.node.tensor("value") ?? Tensor.scalar(Float(0))
            guard value.elementCount == 1, value.elementType.byteSize != nil else {
                throw ctx.fail("'value' must hold one non-string element")
            }
            let one = value.bytes
            let count = Shape.checkedProduct(dims) ?? 0
            return .kernel(outputs: [ValueType(value.elementType, dims)], workspaceBytes: 0) { b in
                FillKernel(output: b.outputs[0], pattern: one, count: count)
            }
        }
        register("Cast") { ctx in
            let x = try ctx.input(0)
            guard let name = ctx.node.string("to"), let to = ElementType(rawValue: name) else {
                throw ctx.fail("'to' must name an element type")
            }
            guard CastKernel.supported.contains(x.elementType), CastKernel.supported.contains(to) else {
                throw ctx.fail(
                    "Cast \(x.elementType) → \(to) is not supported (types: \(CastKernel.supported.map(\.rawValue).sorted()))",
                    .unsupportedElementType(CastKernel.supported.contains(x.elementType) ? to : x.elementType))
            }
            return .kernel(outputs: [ValueType(to, x.shape)], workspaceBytes: 0) { b in
                CastKernel(input: b.input(0), output: b.outputs[0], from: x.elementType, to: to, count: x.elementCount)
            }
        }
    }
}

/// Resolves 0 (copy, unless allowzero) and -1 (infer) in a Reshape target.
func reshapeTarget(_ ctx: NodePlanContext, _ input: [Int], _ target: [Int], allowZero: Bool) throws -> [Int] {
    var out = target
    var infer: Int?
    for (i, d) in target.enumerated() {
        if d == 0 && !allowZero {
            guard i < input.count else { throw ctx.fail("target \(target) copies dimension \(i) of \(input), which does not exist") }
            out[i] = input[i]
        } else if d == -1 {
            guard infer == nil else { throw ctx.fail("target \(target) has more than one -1") }
            infer = i
        } else if d < 0 {
            throw ctx.fail("target \(target) has the invalid size \(d)")
        }
    }
    let total = input.reduce(1, *)
    if let infer {
        let known = Shape.checkedProduct(out.enumerated().filter { $0.offset != infer }.map(\.element)) ?? 0
        guard known > 0, total % known == 0 else { throw ctx.fail("cannot reshape \(input) to \(target)") }
        out[infer] = total / known
    }
    guard Shape.checkedProduct(out) == total else {
        throw ctx.fail("cannot reshape \(input) (\(total) elements) to \(target)")
    }
    return out
}

func copyOp(_ ctx: NodePlanContext, shape: [Int]) -> PlannedOp {
    let x = ctx.inputTypes[0] ?? ValueType(.float32, [])
    let out = ValueType(x.elementType, shape)
    return .kernel(outputs: [out], workspaceBytes: 0) { b in
        CopyKernel(input: b.input(0), output: b.outputs[0], bytes: out.byteCount, fillOnes: nil, fillCount: 0)
    }
}

final class CopyKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let bytes: Int
    let fillOnes: Buffer?
    let fillCount: Int

    init(input: Buffer, output: Buffer, bytes: Int, fillOnes: Buffer?, fillCount: Int) {
        self.input = input
        self.output = output
        self.bytes = bytes
        self.fillOnes = fillOnes
        self.fillCount = fillCount
    }

    func execute(_ memory: Memory) throws {
        if bytes > 0 { memory.raw(output).copyMemory(from: memory.raw(input), byteCount: bytes) }
        if let f = fillOnes, fillCount > 0 { memory.raw(f).initializeMemory(as: UInt8.self, repeating: 1, count: fillCount) }
    }
}

final class FillKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let output: Buffer
    let pattern: [UInt8]
    let count: Int

    init(output: Buffer, pattern: [UInt8], count: Int) {
        self.output = output
        self.pattern = pattern
        self.count = count
    }

    func execute(_ memory: Memory) throws {
        let p = memory.raw(output)
        let size = pattern.count
        pattern.withUnsafeBytes { src in
            guard let s = src.baseAddress else { return }
            for i in 0..<count { (p + i * size).copyMemory(from: s, byteCount: size) }
        }
    }
}
