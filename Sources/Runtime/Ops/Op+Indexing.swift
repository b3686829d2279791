import ModelIR

/// Gather, ArgMax/ArgMin, TopK, CumSum/CumProd, Range. Indices are checked at run time: an index out of
/// range fails the run with the node named, it never reads out of bounds.
extension OpRegistry {
    mutating func registerIndexing() {
        register("Gather") { ctx in
            let data = try ctx.input(0, anyStored), idx = try ctx.input(1, [.int64, .int32])
            guard data.rank >= 1 else { throw ctx.fail("data must have rank ≥ 1") }
            let axis = try ctx.axis(ctx.int("axis", 0), rank: data.rank)
            let outShape = Array(data.shape[..<axis]) + idx.shape + Array(data.shape[(axis + 1)...])
            let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
            let size = data.elementType.byteSize ?? 1
            return .kernel(outputs: [ValueType(data.elementType, outShape)], workspaceBytes: 0) { b in
                GatherKernel(
                    data: b.input(0), indices: b.input(1), output: b.outputs[0], outer: outer, axisSize: data.shape[axis],
                    inner: inner, count: idx.elementCount, wide: idx.elementType == .int64, elementSize: size,
                    node: ctx.node.name)
            }
        }
        register("ArgMax") { ctx in try planArg(ctx, max: true) }
        register("ArgMin") { ctx in try planArg(ctx, max: false) }
        register("TopK") { ctx in
            let x = try ctx.input(0, floatOnly)
            let k = try ctx.requireInts(1, "K")
            let axis = try ctx.axis(ctx.int("axis", -1), rank: x.rank)
            guard k.count == 1, k[0] >= 0, k[0] <= x.shape[axis] else {
                throw ctx.fail("K \(k) must be one number in 0...\(x.shape[axis]) (the size of axis \(axis))")
            }
            var outShape = x.shape
            outShape[axis] = k[0]
            let largest = ctx.int("largest", 1) != 0
            let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
            return .kernel(outputs: [ValueType(.float32, outShape), ValueType(.int64, outShape)], workspaceBytes: x.shape[axis] * 8) { b in
                TopKKernel(
                    input: b.input(0), values: b.outputs[0], indices: b.outputs[1], workspace: b.workspace, outer: outer,
                    length: x.shape[axis], inner: inner, k: k[0], largest: largest)
            }
        }
        for product in [false, true] {
            register(product ? "CumProd" : "CumSum") { ctx in
                let x = try ctx.input(0, numeric)
                let a = try ctx.requireInts(1, "axis")
                guard a.count == 1 else { throw ctx.fail("axis must hold one number") }
                let axis = try ctx.axis(a[0], rank: x.rank)
                let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
                let exclusive = ctx.int("exclusive", 0) != 0, reverse = ctx.int("reverse", 0) != 0
                func make<T: Numeric>(_: T.Type, _ add: @escaping @Sendable (T, T) -> T) -> PlannedOp {
                    .kernel(outputs: [x], workspaceBytes: 0) { b in
                        CumSumKernel<T>(
                            input: b.input(0), output: b.outputs[0], outer: outer, length: x.shape[axis], inner: inner,
                            exclusive: exclusive, reverse: reverse, start: product ? 1 : 0, add: add)
                    }
                }
                switch x.elementType {
                case .float32: return product ? make(Float.self) { $0 * $1 } : make(Float.self) { $0 + $1 }
                case .int64: return product ? make(Int64.self) { $0 &* $1 } : make(Int64.self) { $0 &+ $1 }
                default: return product ? make(Int32.self) { $0 &* $1 } : make(Int32.self) { $0 &+ $1 }
                }
            }
        }
        register("Range") { ctx in
            let s = try ctx.requireConstant(0, "start"), l = try ctx.requireConstant(1, "limit"), d = try ctx.requireConstant(2, "delta")
            guard s.elementType == l.elementType, s.elementType == d.elementType,
                s.elementCount == 1, l.elementCount == 1, d.elementCount == 1
            else { throw ctx.fail("start, limit and delta must be scalars of one type") }
            if let sv = s.asInt64s?.first, let lv = l.asInt64s?.first, let dv = d.asInt64s?.first {
                guard dv != 0 else { throw ctx.fail("delta is 0") }
                let n = Int(Swift.max(0, Swift.min(((Double(lv) - Double(sv)) / Double(dv)).rounded(.up), Double(1 << 27))))
                guard n <= 1 << 26 else { throw ctx.fail("Range would produce \(n) values") }
                let v = (0..<n).map { sv &+ Int64($0) &* dv }
                let t = Tensor.vector(v)
                return .constants([s.elementType == .int64 ? t : try castConstant(t, to: s.elementType)])
            }
            guard let sv = s.floats?.first, let lv = l.floats?.first, let dv = d.floats?.first, dv != 0 else {
                throw ctx.fail(
                    "Range runs on float32, int64 and int32 scalars with a non-zero delta",
                    s.elementType == .float32 ? .invalid : .unsupportedElementType(s.elementType))
            }
            let count = ((lv - sv) / dv).rounded(.up)
            guard count.isFinite else { throw ctx.fail("Range bounds are not finite") }
            let n = Swift.max(0, Int(Swift.min(count, Float(1 << 26))))
            return .constants([Tensor.vector((0..<n).map { sv + Float($0) * dv })])
        }
    }
}

func castConstant(_ t: Tensor, to: ElementType) throws -> Tensor {
    switch to {
    case .int32: return try Tensor(int32s: (t.asInt64s ?? []).map { Int32(truncatingIfNeeded: $0) }, shape: t.shape)
    case .int64: return try Tensor(int64s: t.asInt64s ?? [], shape: t.shape)
    case .float32: return try Tensor(floats: (t.asDoubles ?? []).map(Float.init), shape: t.shape)
    default: return t
    }
}

private func planArg(_ ctx: NodePlanContext, max: Bool) throws -> PlannedOp {
    let x = try ctx.input(0, numeric)
    let axis = try ctx.axis(ctx.int("axis", 0), rank: x.rank)
    let keep = ctx.int("keepdims", 1) != 0, last = ctx.int("select_last_index", 0) != 0
    var outShape = x.shape
    if keep { outShape[axis] = 1 } else { outShape.remove(at: axis) }
    guard x.shape[axis] > 0 else { throw ctx.fail("cannot take Arg\(max ? "Max" : "Min") over the empty axis \(axis)") }
    let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
    func make<T: Comparable>(_: T.Type) -> PlannedOp {
        .kernel(outputs: [ValueType(.int64, outShape)], workspaceBytes: 0) { b in
            ArgKernel<T>(input: b.input(0), output: b.outputs[0], outer: outer, length: x.shape[axis], inner: inner, max: max, last: last)
        }
    }
    switch x.elementType {
    case .float32: return make(Float.self)
    case .int64: return make(Int64.self)
    default: return make(Int32.self)
    }
}

final class GatherKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let data, indices, output: Buffer
    let outer, axisSize, inner, count: Int
    let wide: Bool
    let elementSize: Int
    let node: String

    init(
        data: Buffer, indices: Buffer, output: Buffer, outer: Int, axisSize: Int, inner: Int, count: Int, wide: Bool,
        elementSize: Int, node: String
    ) {
        self.data = data
        self.indices = indices
        self.output = output
        self.outer = outer
        self.axisSize = axisSize
        self.inner = inner
        self.count = count
        self.wide = wide
        self.elementSize = elementSize
        self.node = node
    }

    func execute(_ memory: Memory) throws {
        let src = memory.raw(data), dst = memory.raw(output), idx = memory.raw(indices)
        let block = inner * elementSize
        for j in 0..<count {
            var i = wide ? Int(idx.load(fromByteOffset: j * 8, as: Int64.self)) : Int(idx.load(fromByteOffset: j * 4, as: Int32.self))
            if i < 0 { i += axisSize }
            guard i >= 0 && i < axisSize else {
                throw RuntimeError.executionFailed(
                    node: node, opType: "Gather",
                    detail: "index at position \(j) is out of range for an axis of size \(axisSize)")
            }
        }
        for o in 0..<outer {
            for j in 0..<count {
                var i = wide ? Int(idx.load(fromByteOffset: j * 8, as: Int64.self)) : Int(idx.load(fromByteOffset: j * 4, as: Int32.self))
                if i < 0 { i += axisSize }
                (dst + (o * count + j) * block).copyMemory(from: src + (o * axisSize + i) * block, byteCount: block)
            }
        }
    }
}

final class ArgKernel<T: Comparable>: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let outer, length, inner: Int
    let max, last: Bool

    init(input: Buffer, output: Buffer, outer: Int, length: Int, inner: Int, max: Bool, last: Bool) {
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
        self.max = max
        self.last = last
    }

    func execute(_ memory: Memory) throws {
        let x = memory.typed(input, T.self), y = memory.typed(output, Int64.self)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = x[base], at = 0
                for k in 1..<Swift.max(length, 1) {
                    let v = x[base + k * inner]
                    let better = max ? (last ? v >= best : v > best) : (last ? v <= best : v < best)
                    if better {
                        best = v
                        at = k
                    }
                }
                y[o * inner + i] = Int64(at)
            }
        }
    }
}

final class TopKKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, values, indices, workspace: Buffer
    let outer, length, inner, k: Int
    let largest: Bool

    init(input: Buffer, values: Buffer, indices: Buffer, workspace: Buffer, outer: Int, length: Int, inner: Int, k: Int, largest: Bool) {
        self.input = input
        self.values = values
        self.indices = indices
        self.workspace = workspace
        self.outer = outer
        self.length = length
        self.inner = inner
        self.k = k
        self.largest = largest
    }

    /// Partial selection sort: O(length·k), stable (ties keep the lower index first, as ONNX
    /// requires), no allocation.
    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), v = memory.floats(values), ix = memory.typed(indices, Int64.self)
        let order = memory.typed(workspace, Int.self)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                for j in 0..<length { order[j] = j }
                for r in 0..<k {
                    var best = r
                    for j in (r + 1)..<Swift.max(length, r + 1) {
                        let a = x[base + order[j] * inner], b = x[base + order[best] * inner]
                        let better = largest ? a > b : a < b
                        if better || (a == b && order[j] < order[best]) { best = j }
                    }
                    (order[r], order[best]) = (order[best], order[r])
                    let out = (o * k + r) * inner + i
                    v[out] = x[base + order[r] * inner]
                    ix[out] = Int64(order[r])
                }
            }
        }
    }
}

final class CumSumKernel<T: Numeric>: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let outer, length, inner: Int
    let exclusive, reverse: Bool
    /// The running value before the first element: 0 for CumSum, 1 for CumProd.
    let start: T
    let add: @Sendable (T, T) -> T

    init(
        input: Buffer, output: Buffer, outer: Int, length: Int, inner: Int, exclusive: Bool, reverse: Bool, start: T = 0,
        add: @escaping @Sendable (T, T) -> T
    ) {
        self.start = start
        self.input = input
        self.output = output
        self.outer = outer
        self.length = length
        self.inner = inner
        self.exclusive = exclusive
        self.reverse = reverse
        self.add = add
    }

    func execute(_ memory: Memory) throws {
        let x = memory.typed(input, T.self), y = memory.typed(output, T.self)
        for o in 0..<outer {
            for i in 0..<inner {
                var acc = start
                for s in 0..<length {
                    let k = reverse ? length - 1 - s : s
                    let at = (o * length + k) * inner + i
                    if exclusive {
                        y[at] = acc
                        acc = add(acc, x[at])
                    } else {
                        acc = add(acc, x[at])
                        y[at] = acc
                    }
                }
            }
        }
    }
}
